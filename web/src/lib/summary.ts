// Pure logic of the summary table (汇总表, issue 4): cell values, formatting, sorting, pivot, chart data.
import type { Indicator, SummaryBy, SummaryCompare, SummaryIndicator, SummaryQuery, SummaryRow, SummaryStates } from '../api/types'

export const SUMMARY_BYS: readonly SummaryBy[] = ['county', 'township', 'section', 'division', 'size', 'city']
export const SUMMARY_STATES: readonly SummaryStates[] = ['submitted', 'accepted']
export const SUMMARY_COMPARES: readonly SummaryCompare[] = ['ly', 'prev']

/** The figures shown per indicator, in column order. */
export const MEASURES = ['value', 'previous', 'growth', 'share', 'rank'] as const
export type Measure = (typeof MEASURES)[number]

/** How many indicators are shown until the user picks. */
export const DEFAULT_INDICATOR_COUNT = 4

function oneOf<T extends string>(v: unknown, allowed: readonly T[]): T | null {
  return typeof v === 'string' && (allowed as readonly string[]).includes(v) ? (v as T) : null
}

export const parseBy = (v: unknown): SummaryBy | null => oneOf(v, SUMMARY_BYS)
export const parseStates = (v: unknown): SummaryStates => oneOf(v, SUMMARY_STATES) ?? 'submitted'
export const parseCompare = (v: unknown): SummaryCompare => oneOf(v, SUMMARY_COMPARES) ?? 'ly'

/**
 * The natural row dimension for a user's region (12-digit code): a city (or province) sees its
 * counties, a county or township its townships.
 */
export function defaultBy(region: string | null | undefined): SummaryBy {
  if (!region || !/^\d{12}$/.test(region)) return 'county'
  if (region.endsWith('00000000')) return 'county'
  return 'township'
}

/** The summary query from its parts; `null` until form and period are known. */
export function summaryQuery(p: {
  form: string
  period: string
  by: SummaryBy
  states?: SummaryStates
  compare?: SummaryCompare
}): SummaryQuery | null {
  if (!p.form || !p.period) return null
  return { form: p.form, period: p.period, by: p.by, states: p.states ?? 'submitted', compare: p.compare ?? 'ly' }
}

/** Route query of the view (so a table can be bookmarked and shared); indicators as a comma list. */
export function routeQuery(q: SummaryQuery, indicators: readonly string[], pivoted: boolean): Record<string, string> {
  const out: Record<string, string> = { form: q.form, period: q.period, by: q.by, states: q.states, compare: q.compare }
  if (indicators.length) out.ind = indicators.join(',')
  if (pivoted) out.pivot = '1'
  return out
}

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null
}

/** The raw figure of a row for an indicator and measure; null when absent. */
export function cellValue(row: SummaryRow | null | undefined, ind: string, col: Measure): number | null {
  if (!row) return null
  switch (col) {
    case 'value':
      return finite(row.values?.[ind])
    case 'previous':
      return finite(row.comparable?.[ind]?.previous)
    case 'growth':
      return finite(row.comparable?.[ind]?.growth)
    case 'share':
      return finite(row.share?.[ind])
    case 'rank':
      return finite(row.rank?.[ind])
  }
}

/** A raw figure for a `data-value` attribute: the number as JavaScript prints it, '' for null. */
export function dataValue(v: number | null | undefined): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : ''
}

export const NONE = '—'

/** A number with thousands separators and a fixed number of decimals: 1234567.891 -> "1,234,567.9". */
export function formatNumber(v: number | null | undefined, decimals = 1): string {
  if (typeof v !== 'number' || !Number.isFinite(v)) return NONE
  const d = Math.max(0, Math.min(6, Math.floor(decimals)))
  const fixed = Math.abs(v).toFixed(d)
  const [int, frac] = fixed.split('.')
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
  const neg = v < 0 && Number(fixed) !== 0
  return (neg ? '-' : '') + grouped + (frac ? '.' + frac : '')
}

/** Growth (a fraction) in percent with one decimal and a sign: 0.081 -> "+8.1%", -0.025 -> "-2.5%", null -> "—". */
export function formatGrowth(g: number | null | undefined): string {
  if (typeof g !== 'number' || !Number.isFinite(g)) return NONE
  const p = Math.round(g * 1000) / 10
  if (p === 0) return '0.0%'
  return `${p > 0 ? '+' : '-'}${Math.abs(p).toFixed(1)}%`
}

/** Which way a growth figure points, for colouring; flat when it rounds to 0.0 %. */
export function growthTone(g: number | null | undefined): 'up' | 'down' | 'flat' | 'none' {
  if (typeof g !== 'number' || !Number.isFinite(g)) return 'none'
  const p = Math.round(g * 1000) / 10
  return p > 0 ? 'up' : p < 0 ? 'down' : 'flat'
}

/** A share (a fraction) in percent with one decimal: 0.1234 -> "12.3%". */
export function formatShare(s: number | null | undefined): string {
  if (typeof s !== 'number' || !Number.isFinite(s)) return NONE
  return `${(Math.round(s * 1000) / 10).toFixed(1)}%`
}

/** The text of one cell. */
export function formatCell(col: Measure, v: number | null, decimals = 1): string {
  switch (col) {
    case 'growth':
      return formatGrowth(v)
    case 'share':
      return formatShare(v)
    case 'rank':
      return v === null ? NONE : String(Math.round(v))
    default:
      return formatNumber(v, decimals)
  }
}

/** Sorting of the table: by name, key or unit count, or by one figure of one indicator. */
export type SortField = { field: 'name' | 'key' | 'units' } | { field: 'cell'; ind: string; col: Measure }
export type SortSpec = SortField & { dir: 'asc' | 'desc' }

function sameField(a: SortField, b: SortField): boolean {
  if (a.field !== b.field) return false
  if (a.field === 'cell' && b.field === 'cell') return a.ind === b.ind && a.col === b.col
  return true
}

/**
 * The sort after clicking a column header: a new column starts descending (ascending for name, key
 * and rank, where 1 is the top), a second click flips it, a third goes back to the server's order.
 */
export function nextSort(current: SortSpec | null, clicked: SortField): SortSpec | null {
  if (!current || !sameField(current, clicked)) {
    const asc = clicked.field === 'name' || clicked.field === 'key' || (clicked.field === 'cell' && clicked.col === 'rank')
    return { ...clicked, dir: asc ? 'asc' : 'desc' }
  }
  const firstDir = nextSort(null, clicked)!.dir
  if (current.dir === firstDir) return { ...clicked, dir: firstDir === 'asc' ? 'desc' : 'asc' }
  return null
}

function sortValue(r: SummaryRow, s: SortField): number | string | null {
  switch (s.field) {
    case 'name':
      return r.name ?? ''
    case 'key':
      return r.key ?? ''
    case 'units':
      return finite(r.units)
    case 'cell':
      return cellValue(r, s.ind, s.col)
  }
}

/** Rows sorted by `sort` (stable; missing figures always last); the server's order when `sort` is null. */
export function sortRows<T extends SummaryRow>(rows: readonly T[], sort: SortSpec | null): T[] {
  const out = rows.map((r, i) => ({ r, i }))
  if (sort) {
    const sign = sort.dir === 'asc' ? 1 : -1
    out.sort((a, b) => {
      const x = sortValue(a.r, sort)
      const y = sortValue(b.r, sort)
      if (x === null || y === null) {
        if (x === null && y === null) return a.i - b.i
        return x === null ? 1 : -1
      }
      let c: number
      if (typeof x === 'string' || typeof y === 'string') {
        c = String(x).localeCompare(String(y), 'zh-CN')
        if (c === 0) c = String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0
      } else c = x - y
      return c !== 0 ? c * sign : a.i - b.i
    })
  }
  return out.map((x) => x.r)
}

/** One column of the pivoted table: a dimension member, or the total. */
export interface PivotColumn {
  key: string
  name: string
  total: boolean
}

/** One row of the pivoted table: one figure of one indicator across the members. */
export interface PivotRow {
  ind: string
  col: Measure
  /** first row of its indicator (carries the indicator's name, spanning its measures) */
  first: boolean
  cells: Array<{ key: string; value: number | null }>
}

export interface PivotTable {
  columns: PivotColumn[]
  /** unit counts per column, in column order */
  units: Array<{ key: string; value: number | null }>
  rows: PivotRow[]
}

/**
 * The table transposed: indicators (each with its measures) as rows, the members (in the given
 * order) and then the total as columns.
 */
export function pivot(
  rows: readonly SummaryRow[],
  total: SummaryRow | null | undefined,
  indicators: readonly string[],
  measures: readonly Measure[] = MEASURES,
): PivotTable {
  const members: Array<{ row: SummaryRow; total: boolean }> = rows.map((row) => ({ row, total: false }))
  if (total) members.push({ row: total, total: true })
  const columns = members.map((m) => ({ key: m.row.key, name: m.row.name, total: m.total }))
  const units = members.map((m) => ({ key: m.row.key, value: finite(m.row.units) }))
  const out: PivotRow[] = []
  for (const ind of indicators) {
    measures.forEach((col, i) => {
      out.push({ ind, col, first: i === 0, cells: members.map((m) => ({ key: m.row.key, value: cellValue(m.row, ind, col) })) })
    })
  }
  return { columns, units, rows: out }
}

/** The indicators the user may show: the summary's list, else the form's numeric ones. */
export function availableIndicators(
  summaryIndicators: readonly SummaryIndicator[] | null | undefined,
  formIndicators: readonly Indicator[] | null | undefined,
): SummaryIndicator[] {
  if (summaryIndicators && summaryIndicators.length) return [...summaryIndicators]
  return (formIndicators ?? [])
    .filter((i) => i.type === 'number' || i.type === 'integer')
    .map((i) => ({ code: i.code, name: i.name, name_en: i.name_en, unit: i.unit, decimals: i.decimals }))
}

/**
 * Decimals per indicator for display: the form's definition first, then the summary's indicator list,
 * else 0 for integers and 1 otherwise (applied by the caller's fallback).
 */
export function indicatorDecimals(
  summaryIndicators: readonly SummaryIndicator[] | null | undefined,
  formIndicators: readonly Indicator[] | null | undefined,
): Record<string, number> {
  const out: Record<string, number> = {}
  for (const i of summaryIndicators ?? []) if (typeof i.decimals === 'number') out[i.code] = i.decimals
  for (const i of formIndicators ?? []) {
    if (typeof i.decimals === 'number') out[i.code] = i.decimals
    else if (!(i.code in out) && i.type === 'integer') out[i.code] = 0
  }
  return out
}

/**
 * The chosen indicators kept to those available (in the order of `available`); the first
 * DEFAULT_INDICATOR_COUNT when nothing valid is chosen.
 */
export function chooseIndicators(chosen: readonly string[] | null | undefined, available: readonly SummaryIndicator[]): string[] {
  const codes = available.map((i) => i.code)
  const kept = codes.filter((c) => (chosen ?? []).includes(c))
  return kept.length ? kept : codes.slice(0, DEFAULT_INDICATOR_COUNT)
}

/** "I01,I03" -> ["I01", "I03"] (from the route query). */
export function parseIndicatorList(v: unknown): string[] {
  if (typeof v !== 'string') return []
  return v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

/** Label of a row: industries show their code before the name ("C 制造业"); regions and sizes the name. */
export function rowLabel(row: Pick<SummaryRow, 'key' | 'name'>, by: SummaryBy): string {
  if ((by === 'section' || by === 'division') && row.name && row.name !== row.key) return `${row.key} ${row.name}`
  return row.name || row.key
}

export interface SummaryChartData {
  keys: string[]
  names: string[]
  /** the indicator's value per row */
  values: Array<number | null>
  /** growth in percent, one decimal; null where there is none */
  growth: Array<number | null>
}

/** Bar (value) and line (growth %) data for one indicator, in row order. */
export function chartSeries(rows: readonly SummaryRow[], ind: string, by: SummaryBy): SummaryChartData {
  return {
    keys: rows.map((r) => r.key),
    names: rows.map((r) => rowLabel(r, by)),
    values: rows.map((r) => cellValue(r, ind, 'value')),
    growth: rows.map((r) => {
      const g = cellValue(r, ind, 'growth')
      return g === null ? null : Math.round(g * 1000) / 10
    }),
  }
}

/** Sum of one indicator's values over rows (nulls skipped); used to hold the total row against its rows. */
export function sumValues(rows: readonly SummaryRow[], ind: string): number {
  let s = 0
  for (const r of rows) s += cellValue(r, ind, 'value') ?? 0
  return s
}
