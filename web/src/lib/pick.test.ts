import { describe, expect, it } from 'vitest'
import { pickErrorMessage, pickText } from './pick'
import { ApiError } from '../api/client'
import zh from '../i18n/zh-CN'
import en from '../i18n/en'
import { storedLocale } from '../i18n'

describe('pickText', () => {
  const ind = { name: '工业总产值(当年价格)', name_en: 'Gross industrial output (current prices)' }
  it('picks Chinese by default and English for en', () => {
    expect(pickText(ind, 'name', 'zh-CN')).toBe('工业总产值(当年价格)')
    expect(pickText(ind, 'name', 'en')).toBe('Gross industrial output (current prices)')
  })
  it('falls back to Chinese when the English text is missing or blank', () => {
    expect(pickText({ message: '超过', message_en: '' }, 'message', 'en')).toBe('超过')
    expect(pickText({ label: '本月' }, 'label', 'en')).toBe('本月')
    expect(pickText(null, 'label', 'en')).toBe('')
  })
})

describe('API error messages', () => {
  it('uses message_en for English', () => {
    const e = new ApiError(401, 'BAD_CREDENTIALS', '用户名或密码错误', 'Wrong user name or password')
    expect(pickErrorMessage(e, 'zh-CN')).toBe('用户名或密码错误')
    expect(pickErrorMessage(e, 'en')).toBe('Wrong user name or password')
  })
  it('extracts RuleResults from 422 details', () => {
    const e = new ApiError(422, 'RULE_FAILED', 'x', 'x', [
      { rule: 'export_le_sales', severity: 'error', message: 'm', indicators: ['I04'] },
      'junk',
    ])
    expect(e.ruleResults().map((r) => r.rule)).toEqual(['export_le_sales'])
  })
})

describe('locale', () => {
  it('defaults to zh-CN and restores en from storage', () => {
    expect(storedLocale(null)).toBe('zh-CN')
    expect(storedLocale({ getItem: () => 'en' })).toBe('en')
    expect(storedLocale({ getItem: () => 'fr' })).toBe('zh-CN')
  })
  it('has the same message keys in both languages', () => {
    const keys = (o: object, p = ''): string[] =>
      Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' ? keys(v, `${p}${k}.`) : [`${p}${k}`]))
    expect(keys(en).sort()).toEqual(keys(zh).sort())
    expect(zh.state.not_started).toBe('未填报')
    expect(zh.report.explanation).toBe('说明 / explanation')
  })
})
