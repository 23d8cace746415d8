import { describe, expect, it } from 'vitest'
import type { Indicator } from '../api/types'
import { buildValuesPayload, formatNumber, parseNumber, sanitizeNumeric, valuesToTexts } from './values'

const inds: Indicator[] = [
  { code: 'I01', name: '工业总产值', type: 'number', decimals: 1 },
  { code: 'I04', name: '出口交货值', type: 'number', decimals: 1 },
  { code: 'N1', name: '从业人员', type: 'integer', decimals: 0 },
  { code: 'T1', name: '备注', type: 'text' },
]

describe('buildValuesPayload', () => {
  it('treats empty input as missing, not 0, and keeps a typed 0', () => {
    expect(buildValuesPayload({ I01: '', I04: '0', N1: '  ', T1: '' }, inds)).toEqual({ I04: 0 })
  })
  it('parses numbers, strips thousands separators, truncates integers, keeps text', () => {
    expect(buildValuesPayload({ I01: '1,234.5', N1: '12', T1: ' 说明 ' }, inds)).toEqual({
      I01: 1234.5,
      N1: 12,
      T1: '说明',
    })
  })
  it('drops malformed numbers and unknown codes', () => {
    expect(buildValuesPayload({ I01: '12a', I04: '-', X9: '5' }, inds)).toEqual({})
  })
})

describe('parseNumber', () => {
  it('accepts plain decimals and negatives', () => {
    expect(parseNumber('-3.25')).toBe(-3.25)
    expect(parseNumber('.5')).toBe(0.5)
    expect(parseNumber('7.')).toBe(7)
    expect(parseNumber('')).toBeUndefined()
    expect(parseNumber('1e5')).toBeUndefined()
  })
})

describe('sanitizeNumeric', () => {
  it('limits fraction digits to the indicator decimals', () => {
    expect(sanitizeNumeric('12.345', 1, false)).toBe('12.3')
    expect(sanitizeNumeric('12.3.4', 2, false)).toBe('12.34')
    expect(sanitizeNumeric('12.9', 0, false)).toBe('12')
  })
  it('drops letters, and a minus sign unless negatives are allowed', () => {
    expect(sanitizeNumeric('-1a2', 1, false)).toBe('12')
    expect(sanitizeNumeric('-1a2', 1, true)).toBe('-12')
    expect(sanitizeNumeric('1,000.55', null, false)).toBe('1000.55')
  })
})

describe('valuesToTexts / formatNumber', () => {
  it('fills every indicator, missing as empty', () => {
    expect(valuesToTexts({ I01: 10.5, T1: 'a' }, inds)).toEqual({ I01: '10.5', I04: '', N1: '', T1: 'a' })
  })
  it('formats with decimals', () => {
    expect(formatNumber(1200, 1)).toBe('1200.0')
    expect(formatNumber(null, 1)).toBe('')
    expect(formatNumber(3.14159, null)).toBe('3.14159')
  })
})
