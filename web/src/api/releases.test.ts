import { describe, expect, it } from 'vitest'
import { beijingInputToIso, isoToBeijingInput, releaseActions, releaseRights } from './releases'

describe('releases on the console', () => {
  it('turns the Beijing wall-clock minute into ISO with its offset and back', () => {
    expect(beijingInputToIso('2026-12-15T09:30')).toBe('2026-12-15T09:30+08:00')
    expect(beijingInputToIso('bad')).toBe('')
    expect(isoToBeijingInput('2026-12-15T01:30:00Z')).toBe('2026-12-15T09:30')
    expect(isoToBeijingInput('2026-12-31T16:05:00Z')).toBe('2027-01-01T00:05')
  })

  it('lets publishers act and leader, city and admin read', () => {
    expect(releaseRights('publisher')).toEqual({ read: true, write: true })
    expect(releaseRights('admin')).toEqual({ read: true, write: false })
    expect(releaseRights('leader')).toEqual({ read: true, write: false })
    expect(releaseRights('county')).toEqual({ read: false, write: false })
  })

  it('offers the actions of each state', () => {
    expect(releaseActions('planned')).toEqual({ edit: true, prepare: true, preview: false, signoff: false, download: false })
    expect(releaseActions('prepared')).toEqual({ edit: true, prepare: true, preview: true, signoff: true, download: false })
    expect(releaseActions('signed')).toEqual({ edit: false, prepare: false, preview: true, signoff: false, download: true })
  })
})
