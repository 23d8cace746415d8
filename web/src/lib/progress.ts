import type { ProgressRow } from '../api/types'

/** The count columns of the progress table, in display order. */
export const PROGRESS_COLUMNS = [
  'expected',
  'submitted',
  'returned',
  'reviewed',
  'approved',
  'accepted',
  'overdue',
] as const
export type ProgressColumn = (typeof PROGRESS_COLUMNS)[number]

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0
}

/** submitted / expected in [0, 1]; 0 when nothing is expected. */
export function completionRate(row: Pick<ProgressRow, 'expected' | 'submitted'>): number {
  const e = num(row.expected)
  if (e <= 0) return 0
  return Math.min(1, Math.max(0, num(row.submitted) / e))
}

/**
 * The on-time rate of a row: the server's `on_time_rate` when it is a number, else on_time / expected.
 * Clamped to [0, 1].
 */
export function onTimeRate(row: Pick<ProgressRow, 'expected' | 'on_time' | 'on_time_rate'>): number {
  let r = row.on_time_rate
  if (typeof r !== 'number' || !Number.isFinite(r)) {
    const e = num(row.expected)
    r = e > 0 ? num(row.on_time) / e : 0
  }
  return Math.min(1, Math.max(0, r))
}

/** A rate as a whole-number percent for progress bars: 0.456 -> 46. */
export function percent(rate: number): number {
  if (!Number.isFinite(rate)) return 0
  return Math.round(Math.min(1, Math.max(0, rate)) * 100)
}

/** A rate as text with one decimal: 0.4567 -> "45.7%". */
export function formatRate(rate: number): string {
  if (!Number.isFinite(rate)) return '0.0%'
  return `${(Math.min(1, Math.max(0, rate)) * 100).toFixed(1)}%`
}

/** Colour of a completion rate for bars: red below 60 %, orange below 90 %, green from 90 %. */
export function rateColor(rate: number): string {
  if (rate >= 0.9) return '#67c23a'
  if (rate >= 0.6) return '#e6a23c'
  return '#f56c6c'
}

/** Sums rows into a total row (used when the server's total is missing; it is normally given). */
export function sumRows(rows: readonly ProgressRow[], key = 'total', name = ''): ProgressRow {
  const t: ProgressRow = {
    key,
    name,
    expected: 0,
    not_started: 0,
    draft: 0,
    submitted: 0,
    returned: 0,
    reviewed: 0,
    approved: 0,
    accepted: 0,
    overdue: 0,
    on_time: 0,
    on_time_rate: 0,
  }
  const keys = ['expected', 'not_started', 'draft', 'submitted', 'returned', 'reviewed', 'approved', 'accepted', 'overdue', 'on_time'] as const
  for (const r of rows) for (const k of keys) t[k] += num(r[k])
  t.on_time_rate = t.expected > 0 ? t.on_time / t.expected : 0
  return t
}

/** A 12-digit region code is a drillable region row; industry 门类 rows have letter keys. */
export function isRegionKey(key: string): boolean {
  return /^\d{12}$/.test(key)
}

/** One step of the drill-down breadcrumb. */
export interface Crumb {
  code: string
  name: string
}

/**
 * The breadcrumb after clicking `child` while at `trail`: appended, or cut back when the child is
 * already on the trail (going up).
 */
export function drillTo(trail: readonly Crumb[], child: Crumb): Crumb[] {
  const i = trail.findIndex((c) => c.code === child.code)
  if (i >= 0) return trail.slice(0, i + 1)
  return [...trail, child]
}

/**
 * Older names of county-level divisions as they appear in public boundary data, mapped to the
 * current names of the directory. Source: data/refdata/SOURCE.md (430221 株洲县 became 430212 渌口区
 * in the 2018 code list).
 */
export const REGION_ALIASES: Readonly<Record<string, string>> = {
  株洲县: '渌口区',
}

export interface ChartDatum {
  key: string
  name: string
  /** completion in percent, 0..100 */
  value: number
  submitted: number
  expected: number
}

/** Chart data of the rows: completion (submitted / expected) in percent per row, in row order. */
export function chartData(rows: readonly ProgressRow[]): ChartDatum[] {
  return rows.map((r) => ({
    key: r.key,
    name: r.name,
    value: Math.round(completionRate(r) * 1000) / 10,
    submitted: num(r.submitted),
    expected: num(r.expected),
  }))
}

/** Minimal GeoJSON feature collection shape (only what matching needs). */
export interface FeatureNames {
  features: Array<{ properties?: { name?: string } | null }>
}

/**
 * Map data: each row matched to a feature of the boundary file by name (with REGION_ALIASES, so a
 * feature named 株洲县 carries the row 渌口区). Returns the data keyed by feature name and the rows
 * that no feature matched; a map is only worth drawing when every row matched.
 */
export function mapData(
  rows: readonly ProgressRow[],
  geo: FeatureNames,
): { data: Array<ChartDatum & { feature: string }>; unmatched: string[] } {
  const byName = new Map<string, string>()
  for (const f of geo.features) {
    const n = f.properties?.name
    if (!n) continue
    byName.set(n, n)
    const alias = REGION_ALIASES[n]
    if (alias) byName.set(alias, n)
  }
  const data: Array<ChartDatum & { feature: string }> = []
  const unmatched: string[] = []
  for (const d of chartData(rows)) {
    const feature = byName.get(d.name)
    if (feature) data.push({ ...d, feature })
    else unmatched.push(d.name)
  }
  return { data, unmatched }
}
