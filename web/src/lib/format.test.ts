import { describe, expect, it } from 'vitest'
import { formatDateTime, formatDeadline, formatPeriod } from './format'

describe('formatDeadline', () => {
  it('shows the Beijing wall-clock time of the deadline', () => {
    expect(formatDeadline('2026-12-05T18:00:00+08:00')).toBe('2026-12-05 18:00')
  })
  it('converts other offsets to Beijing time', () => {
    expect(formatDeadline('2026-12-05T10:00:00Z')).toBe('2026-12-05 18:00')
    expect(formatDeadline('2026-12-31T20:30:00Z')).toBe('2027-01-01 04:30')
  })
  it('passes through garbage and blanks', () => {
    expect(formatDeadline('soon')).toBe('soon')
    expect(formatDeadline(null)).toBe('')
  })
  it('can show seconds', () => {
    expect(formatDateTime('2026-11-26T09:05:07+08:00', true)).toBe('2026-11-26 09:05:07')
  })
})

describe('formatPeriod', () => {
  it('formats months, quarters, halves and years per locale', () => {
    expect(formatPeriod('2026M11', 'zh-CN')).toBe('2026年11月')
    expect(formatPeriod('2026M03', 'en')).toBe('2026-03')
    expect(formatPeriod('2026Q3', 'zh-CN')).toBe('2026年第3季度')
    expect(formatPeriod('2026H2', 'zh-CN')).toBe('2026年下半年')
    expect(formatPeriod('2026', 'en')).toBe('2026')
    expect(formatPeriod('weird', 'en')).toBe('weird')
  })
})
