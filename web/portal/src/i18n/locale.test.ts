import { describe, expect, it } from 'vitest'
import { langOf, localeFromQuery, storedLocale } from './index'
import zh from './zh-CN'
import en from './en'

function keys(o: object, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === 'object' && v !== null ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]))
}

describe('portal language', () => {
  it('reads ?lang=zh|en (and zh-CN, en-US), ignoring anything else', () => {
    expect(localeFromQuery('en')).toBe('en')
    expect(localeFromQuery('EN-us')).toBe('en')
    expect(localeFromQuery('zh')).toBe('zh-CN')
    expect(localeFromQuery(['zh-CN'])).toBe('zh-CN')
    expect(localeFromQuery('fr')).toBeNull()
    expect(localeFromQuery(undefined)).toBeNull()
  })

  it('defaults to Chinese and remembers English', () => {
    expect(storedLocale(null)).toBe('zh-CN')
    expect(storedLocale({ getItem: () => 'en' })).toBe('en')
    expect(storedLocale({ getItem: () => { throw new Error('private mode') } })).toBe('zh-CN')
    expect(langOf('en')).toBe('en')
    expect(langOf('zh-CN')).toBe('zh')
  })

  it('has every key in both languages', () => {
    expect(keys(en).sort()).toEqual(keys(zh).sort())
  })
})
