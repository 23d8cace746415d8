import { describe, expect, it } from 'vitest'
import type { Version } from '../api/types'
import { diffValues, versionDiffs } from './diff'

function v(version: number, values: Version['values']): Version {
  return { version, state: 'submitted', values, explanations: {}, created_at: '2026-11-26T01:00:00Z', actor: 'x' }
}

describe('version diff', () => {
  it('lists changed, added and removed codes', () => {
    expect(diffValues({ I01: 1, I03: 2, I04: 0 }, { I01: 1, I03: 3, I05: 9 })).toEqual([
      { code: 'I03', from: 2, to: 3 },
      { code: 'I04', from: 0, to: null },
      { code: 'I05', from: null, to: 9 },
    ])
  })
  it('treats float noise as equal and 0 as a value', () => {
    expect(diffValues({ I01: 0.1 + 0.2 }, { I01: 0.3 })).toEqual([])
    expect(diffValues({ I04: 0 }, {})).toEqual([{ code: 'I04', from: 0, to: null }])
  })
  it('compares each version with the one before it by number, newest first', () => {
    const d = versionDiffs([v(2, { I01: 5, I03: 4 }), v(1, { I01: 4, I03: 4 }), v(3, { I01: 5, I03: 4 })])
    expect(d.map((x) => [x.version, x.previous, x.changed])).toEqual([
      [3, 2, []],
      [2, 1, ['I01']],
      [1, null, []],
    ])
  })
})
