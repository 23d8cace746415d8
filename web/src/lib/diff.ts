import type { Values, Version } from '../api/types'

export interface VersionDiff {
  version: number
  /** The version it is compared with (the one before), or null for the first. */
  previous: number | null
  /** Indicator codes whose value differs from the previous version (added, removed or changed). */
  changed: string[]
  changes: Array<{ code: string; from: Values[string] | null; to: Values[string] | null }>
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a === 'number' && typeof b === 'number') return Math.abs(a - b) < 1e-9
  return false
}

/** Differences between two value maps, codes in sorted order. */
export function diffValues(before: Values | null | undefined, after: Values | null | undefined): VersionDiff['changes'] {
  const a = before ?? {}
  const b = after ?? {}
  const codes = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  const out: VersionDiff['changes'] = []
  for (const code of codes) {
    const x = code in a ? a[code] : null
    const y = code in b ? b[code] : null
    if (x === null && y === null) continue
    if (!same(x, y)) out.push({ code, from: x, to: y })
  }
  return out
}

/**
 * For each version, the changes against the version before it (by version number, whatever the order
 * given). The first version has no previous and no changes. Sorted newest first.
 */
export function versionDiffs(versions: readonly Version[]): VersionDiff[] {
  const asc = [...versions].sort((a, b) => a.version - b.version)
  const out: VersionDiff[] = asc.map((v, i) => {
    if (i === 0) return { version: v.version, previous: null, changed: [], changes: [] }
    const changes = diffValues(asc[i - 1].values, v.values)
    return { version: v.version, previous: asc[i - 1].version, changed: changes.map((c) => c.code), changes }
  })
  return out.reverse()
}
