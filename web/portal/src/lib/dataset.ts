// Pure logic over a published dataset (docs/publication.md section 3): labels by language, the
// pivot table, chart series, the key figure of a home-page card. No DOM, no fetch: unit tested.
import type { Code, Dataset, Dimension, Observation } from '../api/types'

export type Lang = 'zh' | 'en'

export function label(x: { name_zh?: string; name_en?: string }, lang: Lang): string {
  return (lang === 'en' ? x.name_en || x.name_zh : x.name_zh || x.name_en) || ''
}

export function title(x: { title_zh?: string; title_en?: string }, lang: Lang): string {
  return (lang === 'en' ? x.title_en || x.title_zh : x.title_zh || x.title_en) || ''
}

/** A localised free-text field `<name>_zh` / `<name>_en`, falling back to the other language. */
export function text(x: object, name: string, lang: Lang): string {
  const o = x as Record<string, unknown>
  const a = o[`${name}_${lang}`]
  const b = o[`${name}_${lang === 'en' ? 'zh' : 'en'}`]
  return (typeof a === 'string' && a) || (typeof b === 'string' && b) || ''
}

/** A cell of a table or chart: the observation's value and status, or absent (no observation). */
export interface Cell {
  value: number | null
  /** '' normal, 'C' suppressed, 'M' missing, 'none' = no observation at all */
  status: '' | 'C' | 'M' | 'none'
}

/** Index of observations by key, for O(1) look-ups while pivoting. */
export class ObservationIndex {
  private readonly byKey = new Map<string, Observation>()
  constructor(observations: readonly Observation[]) {
    for (const o of observations) this.byKey.set(o.key.join(':'), o)
  }
  cell(key: readonly number[]): Cell {
    const o = this.byKey.get(key.join(':'))
    if (!o) return { value: null, status: 'none' }
    const s = o.status === 'C' || o.status === 'M' ? o.status : ''
    if (s) return { value: null, status: s }
    return { value: typeof o.value === 'number' ? o.value : null, status: typeof o.value === 'number' ? '' : 'M' }
  }
}

export function dimIndex(d: Dataset, role: string): number {
  return d.dimensions.findIndex((x) => x.role === role)
}

export function timeIndex(d: Dataset): number {
  const i = d.dimensions.findIndex((x) => x.role === 'time' || x.id === 'TIME_PERIOD')
  return i >= 0 ? i : d.dimensions.length - 1
}

/**
 * Default selection of one code per dimension: the top-level region (no parent), the first
 * indicator, the newest period, the first code elsewhere.
 */
export function defaultSelection(d: Dataset): number[] {
  const t = timeIndex(d)
  return d.dimensions.map((dim, i) => {
    if (i === t) return Math.max(0, dim.codes.length - 1)
    if (dim.role === 'geo') {
      const top = dim.codes.findIndex((c) => !c.parent)
      return top >= 0 ? top : 0
    }
    return 0
  })
}

/**
 * Default pivot: regions (else the first other dimension) down the rows, periods across; with a
 * single period the indicators (else the next dimension) go across instead.
 */
export function defaultPivot(d: Dataset): { rows: number; cols: number } {
  const t = timeIndex(d)
  const g = dimIndex(d, 'geo')
  const rows = g >= 0 && g !== t ? g : d.dimensions.findIndex((_, i) => i !== t)
  if (rows < 0) return { rows: 0, cols: 0 }
  if (d.dimensions[t].codes.length <= 1) {
    const m = dimIndex(d, 'metric')
    const cols = m >= 0 && m !== rows && m !== t ? m : d.dimensions.findIndex((_, i) => i !== t && i !== rows)
    if (cols >= 0) return { rows, cols }
  }
  return { rows, cols: t }
}

export interface PivotTable {
  rowDim: Dimension
  colDim: Dimension
  rows: Code[]
  cols: Code[]
  /** cells[r][c] */
  cells: Cell[][]
  suppressed: number
  missing: number
}

/**
 * The table of `rows` x `cols` dimensions with every other dimension fixed at `selection`.
 * With rows === cols (a one-dimensional dataset) there is a single column.
 */
export function pivot(d: Dataset, index: ObservationIndex, rows: number, cols: number, selection: readonly number[]): PivotTable {
  const rowDim = d.dimensions[rows]
  const colDim = d.dimensions[cols]
  const single = rows === cols
  const colCodes = single ? [colDim.codes[selection[cols]] ?? colDim.codes[0]] : colDim.codes
  let suppressed = 0
  let missing = 0
  const cells = rowDim.codes.map((_, r) =>
    colCodes.map((_c, c) => {
      const key = [...selection]
      key[rows] = r
      if (!single) key[cols] = c
      const cell = index.cell(key)
      if (cell.status === 'C') suppressed++
      if (cell.status === 'M') missing++
      return cell
    }),
  )
  return { rowDim, colDim, rows: rowDim.codes, cols: colCodes, cells, suppressed, missing }
}

/** The values along one dimension with the others fixed at `selection` (a chart series). */
export function series(d: Dataset, index: ObservationIndex, along: number, selection: readonly number[]): Cell[] {
  return d.dimensions[along].codes.map((_, i) => {
    const key = [...selection]
    key[along] = i
    return index.cell(key)
  })
}

/** The unit of the selected indicator: the code's own unit when it has one, else the dataset's. */
export function unitOf(d: Dataset, selection: readonly number[], lang: Lang): string {
  const m = dimIndex(d, 'metric')
  if (m >= 0) {
    const code = d.dimensions[m].codes[selection[m]]
    if (code) {
      const u = lang === 'en' ? code.unit_en || code.unit_zh : code.unit_zh || code.unit_en
      if (u) return u
    }
  }
  return text(d, 'unit', lang)
}

/** The number as the dataset shows it: `decimals` places, thousands grouped. */
export function formatValue(v: number | null, decimals = 1, lang: Lang = 'zh'): string {
  if (v === null || !Number.isFinite(v)) return ''
  const places = Math.max(0, Math.min(6, Math.trunc(decimals)))
  return v.toLocaleString(lang === 'en' ? 'en-US' : 'zh-CN', { minimumFractionDigits: places, maximumFractionDigits: places })
}

/** Text of a cell in a table: the number, "…" when suppressed, "—" when missing or absent. */
export function cellText(c: Cell, decimals = 1, lang: Lang = 'zh'): string {
  if (c.status === 'C') return '…'
  if (c.status === 'M' || c.status === 'none' || c.value === null) return '—'
  return formatValue(c.value, decimals, lang)
}

export interface KeyFigure {
  indicator: string
  region: string
  period: string
  value: number | null
  previous: number | null
  unit: string
}

/**
 * The figure a home-page card shows: the first indicator, the top-level region, the newest period
 * that has a value (and the period before it, for the change).
 */
export function keyFigure(d: Dataset, lang: Lang): KeyFigure | null {
  if (!d.dimensions.length) return null
  const idx = new ObservationIndex(d.observations)
  const sel = defaultSelection(d)
  const t = timeIndex(d)
  const s = series(d, idx, t, sel)
  let last = -1
  for (let i = s.length - 1; i >= 0; i--) {
    if (s[i].status === '' && s[i].value !== null) {
      last = i
      break
    }
  }
  if (last < 0) return null
  const m = dimIndex(d, 'metric')
  const g = dimIndex(d, 'geo')
  const prev = last > 0 && s[last - 1].status === '' ? s[last - 1].value : null
  return {
    indicator: m >= 0 ? label(d.dimensions[m].codes[sel[m]], lang) : '',
    region: g >= 0 ? label(d.dimensions[g].codes[sel[g]], lang) : '',
    period: label(d.dimensions[t].codes[last], lang) || d.dimensions[t].codes[last].id,
    value: s[last].value,
    previous: prev,
    unit: unitOf(d, sel, lang),
  }
}

/** Codes of a geo dimension below its top level (the counties of a city), with their indexes. */
export function childRegions(dim: Dimension): Array<{ index: number; code: Code }> {
  const all = dim.codes.map((code, index) => ({ index, code }))
  const children = all.filter((x) => !!x.code.parent)
  return children.length ? children : all
}

/** The top-level region of a geo dimension (the parent of its children), or null. */
export function topRegion(dim: Dimension): Code | null {
  return dim.codes.find((c) => !c.parent) ?? null
}

/** A county-level code: 6 digits (430202) or 12 with six trailing zeros (430202000000). */
export function isCountyCode(id: string): boolean {
  return /^\d{6}$/.test(id) || /^\d{6}0{6}$/.test(id)
}
