import { describe, expect, it } from 'vitest'
import { beijingMinute, beijingYear, splitCalendar } from './time'

describe('release times', () => {
  it('shows the UTC minute in Beijing time', () => {
    expect(beijingMinute('2026-12-15T01:30:00Z')).toBe('2026-12-15 09:30')
    expect(beijingYear('2026-12-31T16:30:00Z')).toBe(2027)
  })

  it('splits the calendar into upcoming (soonest first) and published (newest first)', () => {
    const now = Date.parse('2026-12-01T00:00:00Z')
    const e = [
      { id: 'a', release_at: '2026-11-15T01:30:00Z', status: 'published' },
      { id: 'b', release_at: '2026-12-20T01:30:00Z', status: 'planned' },
      { id: 'c', release_at: '2026-12-10T01:30:00Z', status: 'planned' },
      { id: 'd', release_at: '2026-10-15T01:30:00Z' },
    ]
    const s = splitCalendar(e, now)
    expect(s.upcoming.map((x) => x.id)).toEqual(['c', 'b'])
    expect(s.published.map((x) => x.id)).toEqual(['a', 'd'])
  })
})
