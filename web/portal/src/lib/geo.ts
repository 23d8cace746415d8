// County boundaries for the dataset map: which boundary file outlines the children of a region, and
// which feature each county code is. Files and their sources: web/src/assets/geo/SOURCE.md.
import { BOUNDARIES } from '../../../src/lib/boundaries'
import { REGION_ALIASES } from '../../../src/lib/progress'
import type { Code } from '../api/types'

export interface GeoFeatures {
  features: Array<{ id?: string | number; properties?: { name?: string } | null }>
}

/** The 12-digit form of a region code (430200 -> 430200000000). */
export function code12(id: string): string {
  return /^\d{6}$/.test(id) ? id + '000000' : id
}

/** Loader of the boundary file outlining the children of `parent`, or null when there is none. */
export function boundaryLoader(parent: string | null | undefined): (() => Promise<string>) | null {
  if (!parent) return null
  return BOUNDARIES[code12(parent)] ?? null
}

/**
 * Feature name of each code: by the feature's id (the county code) first, else by the Chinese name
 * (with REGION_ALIASES for features under an older name, 株洲县 -> 渌口区). Codes without a feature are
 * left out.
 */
export function matchFeatures(codes: readonly Code[], geo: GeoFeatures): Map<string, string> {
  const byId = new Map<string, string>()
  const byName = new Map<string, string>()
  for (const f of geo.features) {
    const n = f.properties?.name
    if (!n) continue
    if (f.id !== undefined && f.id !== null) byId.set(String(f.id), n)
    byName.set(n, n)
    const alias = REGION_ALIASES[n]
    if (alias) byName.set(alias, n)
  }
  const out = new Map<string, string>()
  const used = new Set<string>()
  for (const c of codes) {
    const six = c.id.slice(0, 6)
    const f = byName.get(c.name_zh) ?? byId.get(c.id) ?? byId.get(six)
    if (f && !used.has(f)) {
      out.set(c.id, f)
      used.add(f)
    }
  }
  return out
}
