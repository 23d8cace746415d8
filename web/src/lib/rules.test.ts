import { describe, expect, it } from 'vitest'
import type { RuleResult } from '../api/types'
import { canSubmit, explanationsPayload, missingExplanations, resultsByIndicator } from './rules'

const exportRule: RuleResult = {
  rule: 'export_le_sales',
  severity: 'error',
  message: '出口交货值不能大于工业销售产值',
  message_en: 'Export delivery value must not exceed sales output',
  indicators: ['I04', 'I03'],
}
const yoy: RuleResult = {
  rule: 'yoy_output_01',
  severity: 'warning',
  message: '工业总产值同比增长超过50%',
  indicators: ['I01'],
}
const ytd: RuleResult = {
  rule: 'ytd_identity_01',
  severity: 'error',
  message: '累计数应等于上月止累计加本月',
  indicators: ['I01', 'I01_YTD'],
}

describe('resultsByIndicator', () => {
  it('lists a rule beside every indicator it names', () => {
    const m = resultsByIndicator([exportRule])
    expect(Object.keys(m).sort()).toEqual(['I03', 'I04'])
    expect(m.I04[0].rule).toBe('export_le_sales')
    expect(m.I03[0].rule).toBe('export_le_sales')
  })
  it('puts errors before warnings for one field and leaves untouched fields out', () => {
    const m = resultsByIndicator([yoy, ytd])
    expect(m.I01.map((r) => r.rule)).toEqual(['ytd_identity_01', 'yoy_output_01'])
    expect(m.I01_YTD.map((r) => r.rule)).toEqual(['ytd_identity_01'])
    expect(m.I05).toBeUndefined()
  })
  it('does not repeat a rule that names an indicator twice, and copes with no indicators', () => {
    const m = resultsByIndicator([{ ...yoy, indicators: ['I01', 'I01'] }, { ...ytd, indicators: [] }])
    expect(m.I01).toHaveLength(1)
  })
})

describe('submit gating', () => {
  it('blocks on any error', () => {
    expect(canSubmit([exportRule], {})).toBe(false)
    expect(canSubmit([], {})).toBe(true)
  })
  it('blocks on a warning without a non-blank explanation', () => {
    expect(missingExplanations([yoy], {})).toEqual(['yoy_output_01'])
    expect(canSubmit([yoy], { yoy_output_01: '   ' })).toBe(false)
    expect(canSubmit([yoy], { yoy_output_01: '新生产线投产' })).toBe(true)
  })
  it('sends explanations only for current warnings, trimmed', () => {
    expect(
      explanationsPayload([yoy, exportRule], { yoy_output_01: ' 新订单 ', export_le_sales: 'x', old_rule: 'y' }),
    ).toEqual({ yoy_output_01: '新订单' })
  })
})
