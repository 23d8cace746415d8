import { describe, expect, it } from 'vitest'
import { beijingYearMonth, currentPeriod, previousPeriod, recentPeriods } from './period'

describe('current period in Beijing time', () => {
  it('uses the Beijing date, not UTC: 2026-03-31T16:30Z is 1 April 00:30 in Beijing', () => {
    const t = Date.parse('2026-03-31T16:30:00Z')
    expect(beijingYearMonth(t)).toEqual({ year: 2026, month: 4 })
    expect(currentPeriod('month', t)).toBe('2026M04')
    expect(currentPeriod('quarter', t)).toBe('2026Q2')
  })
  it('just before Beijing midnight stays in the old month', () => {
    const t = Date.parse('2026-03-31T15:59:59Z')
    expect(currentPeriod('month', t)).toBe('2026M03')
    expect(currentPeriod('quarter', t)).toBe('2026Q1')
  })
  it('New Year in Beijing while it is still 31 December in UTC', () => {
    const t = Date.parse('2026-12-31T17:00:00Z')
    expect(currentPeriod('month', t)).toBe('2027M01')
    expect(currentPeriod('quarter', t)).toBe('2027Q1')
    expect(currentPeriod('year', t)).toBe('2027')
    expect(currentPeriod('half', t)).toBe('2027H1')
  })
  it('pads months to two digits like the server (2026M11, 2026M03)', () => {
    expect(currentPeriod('month', Date.parse('2026-11-26T05:00:00Z'))).toBe('2026M11')
    expect(currentPeriod(undefined, Date.parse('2026-03-10T05:00:00Z'))).toBe('2026M03')
  })
  it('quarters', () => {
    for (const [m, q] of [
      [1, 1], [3, 1], [4, 2], [6, 2], [7, 3], [9, 3], [10, 4], [12, 4],
    ] as const) {
      expect(currentPeriod('quarter', Date.UTC(2026, m - 1, 15, 4))).toBe(`2026Q${q}`)
    }
  })
})

describe('previous periods', () => {
  it('steps back across years', () => {
    expect(previousPeriod('2026M01')).toBe('2025M12')
    expect(previousPeriod('2026M11')).toBe('2026M10')
    expect(previousPeriod('2026Q1')).toBe('2025Q4')
    expect(previousPeriod('2026H1')).toBe('2025H2')
    expect(previousPeriod('2026')).toBe('2025')
    expect(previousPeriod('junk')).toBe('junk')
  })
  it('lists recent periods newest first', () => {
    expect(recentPeriods('month', 3, Date.parse('2026-02-10T00:00:00Z'))).toEqual(['2026M02', '2026M01', '2025M12'])
    expect(recentPeriods('quarter', 2, Date.parse('2026-02-10T00:00:00Z'))).toEqual(['2026Q1', '2025Q4'])
  })
})
