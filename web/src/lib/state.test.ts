import { describe, expect, it } from 'vitest'
import { isEditable, latestEvent } from './state'

describe('submission state helpers', () => {
  it('returned submissions are editable by the enterprise, accepted ones are not', () => {
    expect(isEditable('returned')).toBe(true)
    expect(isEditable('accepted')).toBe(false)
    expect(isEditable(undefined)).toBe(true)
  })
  it('finds the latest return event and its reason', () => {
    const evs = [
      { at: '2026-11-26T01:00:00Z', actor: 'a', action: 'submit' },
      { at: '2026-11-26T02:00:00Z', actor: 't', action: 'return', reason: '第一次' },
      { at: '2026-11-26T03:00:00Z', actor: 'a', action: 'submit' },
      { at: '2026-11-26T04:00:00+08:00', actor: 't', action: 'return', reason: '更早（北京时间）' },
      { at: '2026-11-26T05:00:00Z', actor: 't', action: 'return', reason: '最新' },
    ]
    expect(latestEvent(evs, 'return')?.reason).toBe('最新')
    expect(latestEvent(evs, 'accept')).toBeNull()
    expect(latestEvent([], 'return')).toBeNull()
  })
})
