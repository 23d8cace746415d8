import { describe, expect, it } from 'vitest'
import { buildQuery, summaryParams, summaryXlsxUrl } from '../api/client'
import type { SummaryRow } from '../api/types'
import {
  availableIndicators,
  cellValue,
  chartSeries,
  chooseIndicators,
  dataValue,
  defaultBy,
  formatCell,
  formatGrowth,
  formatNumber,
  formatShare,
  growthTone,
  indicatorDecimals,
  nextSort,
  parseBy,
  parseCompare,
  parseIndicatorList,
  parseStates,
  pivot,
  routeQuery,
  rowLabel,
  sortRows,
  sumValues,
  summaryQuery,
} from './summary'

function row(key: string, name: string, units: number, v: number | null, prev: number | null, growth: number | null, share: number | null, rank: number | null): SummaryRow {
  return {
    key,
    name,
    units,
    values: { I01: v },
    counts: { I01: units },
    comparable: { I01: { current: v, previous: prev, growth, units } },
    share: { I01: share },
    rank: { I01: rank },
  }
}

const A = row('430202', '荷塘区', 21, 300, 250, 0.2, 0.5, 1)
const B = row('430203', '芦淞区', 23, 200, null, null, 0.3333, 2)
const C = row('430204', '石峰区', 14, 100, 125, -0.2, 0.1667, 3)
const E = row('430211', '天元区', 0, null, null, null, null, null)
const TOTAL = row('4302', '株洲市', 58, 600, 375, 0.0667, 1, null)

describe('summary cells', () => {
  it('reads each figure of a row and null for missing ones', () => {
    expect(cellValue(A, 'I01', 'value')).toBe(300)
    expect(cellValue(A, 'I01', 'previous')).toBe(250)
    expect(cellValue(A, 'I01', 'growth')).toBe(0.2)
    expect(cellValue(A, 'I01', 'share')).toBe(0.5)
    expect(cellValue(A, 'I01', 'rank')).toBe(1)
    expect(cellValue(B, 'I01', 'growth')).toBeNull()
    expect(cellValue(A, 'I99', 'value')).toBeNull()
    expect(cellValue({ key: 'x', name: 'x', units: 0, values: {} }, 'I01', 'growth')).toBeNull()
    expect(cellValue(null, 'I01', 'value')).toBeNull()
    expect(cellValue({ key: 'x', name: 'x', units: 0, values: { I01: Number.NaN } }, 'I01', 'value')).toBeNull()
  })
  it('gives data-value the raw number, empty for null', () => {
    expect(dataValue(0.081)).toBe('0.081')
    expect(dataValue(0)).toBe('0')
    expect(dataValue(null)).toBe('')
    expect(dataValue(undefined)).toBe('')
    expect(dataValue(Number.POSITIVE_INFINITY)).toBe('')
  })
})

describe('summary formatting', () => {
  it('formats growth in percent with one decimal and a sign, — for null', () => {
    expect(formatGrowth(0.081)).toBe('+8.1%')
    expect(formatGrowth(-0.02484)).toBe('-2.5%')
    expect(formatGrowth(0)).toBe('0.0%')
    expect(formatGrowth(-0.0004)).toBe('0.0%')
    expect(formatGrowth(1.5)).toBe('+150.0%')
    expect(formatGrowth(null)).toBe('—')
    expect(formatGrowth(undefined)).toBe('—')
    expect(formatGrowth(Number.NaN)).toBe('—')
  })
  it('colours growth by its rounded sign', () => {
    expect(growthTone(0.081)).toBe('up')
    expect(growthTone(-0.2)).toBe('down')
    expect(growthTone(0.0004)).toBe('flat')
    expect(growthTone(null)).toBe('none')
  })
  it('formats shares and numbers', () => {
    expect(formatShare(0.12345)).toBe('12.3%')
    expect(formatShare(1)).toBe('100.0%')
    expect(formatShare(0)).toBe('0.0%')
    expect(formatShare(null)).toBe('—')
    expect(formatNumber(1234567.891, 1)).toBe('1,234,567.9')
    expect(formatNumber(-1234.5, 0)).toBe('-1,235')
    expect(formatNumber(-0.04, 1)).toBe('0.0')
    expect(formatNumber(999.95, 1)).toBe('1,000.0')
    expect(formatNumber(12, 2)).toBe('12.00')
    expect(formatNumber(null)).toBe('—')
    expect(formatCell('rank', 2)).toBe('2')
    expect(formatCell('rank', null)).toBe('—')
    expect(formatCell('growth', 0.081)).toBe('+8.1%')
    expect(formatCell('share', 0.5)).toBe('50.0%')
    expect(formatCell('previous', 250, 1)).toBe('250.0')
  })
})

describe('summary sorting', () => {
  const rows = [B, E, A, C]
  it('keeps the server order without a sort', () => {
    expect(sortRows(rows, null).map((r) => r.key)).toEqual(['430203', '430211', '430202', '430204'])
  })
  it('sorts by a figure, missing figures last in both directions', () => {
    expect(sortRows(rows, { field: 'cell', ind: 'I01', col: 'value', dir: 'desc' }).map((r) => r.key)).toEqual(['430202', '430203', '430204', '430211'])
    expect(sortRows(rows, { field: 'cell', ind: 'I01', col: 'value', dir: 'asc' }).map((r) => r.key)).toEqual(['430204', '430203', '430202', '430211'])
    expect(sortRows(rows, { field: 'cell', ind: 'I01', col: 'growth', dir: 'desc' }).map((r) => r.key)).toEqual(['430202', '430204', '430203', '430211'])
    expect(sortRows(rows, { field: 'cell', ind: 'I01', col: 'rank', dir: 'asc' }).map((r) => r.key)).toEqual(['430202', '430203', '430204', '430211'])
  })
  it('sorts by units, key and name; does not change its input', () => {
    expect(sortRows(rows, { field: 'units', dir: 'desc' }).map((r) => r.units)).toEqual([23, 21, 14, 0])
    expect(sortRows(rows, { field: 'key', dir: 'asc' }).map((r) => r.key)).toEqual(['430202', '430203', '430204', '430211'])
    expect(sortRows(rows, { field: 'name', dir: 'asc' }).map((r) => r.name)).toHaveLength(4)
    expect(rows.map((r) => r.key)).toEqual(['430203', '430211', '430202', '430204'])
  })
  it('is stable for equal figures', () => {
    const x = row('1', 'a', 1, 5, null, null, null, null)
    const y = row('2', 'b', 1, 5, null, null, null, null)
    expect(sortRows([x, y], { field: 'cell', ind: 'I01', col: 'value', dir: 'desc' }).map((r) => r.key)).toEqual(['1', '2'])
    expect(sortRows([x, y], { field: 'cell', ind: 'I01', col: 'value', dir: 'asc' }).map((r) => r.key)).toEqual(['1', '2'])
  })
  it('cycles a header: first direction, flipped, then off', () => {
    const v = { field: 'cell' as const, ind: 'I01', col: 'value' as const }
    const s1 = nextSort(null, v)
    expect(s1).toEqual({ ...v, dir: 'desc' })
    const s2 = nextSort(s1, v)
    expect(s2).toEqual({ ...v, dir: 'asc' })
    expect(nextSort(s2, v)).toBeNull()
    expect(nextSort(s1, { field: 'name' })).toEqual({ field: 'name', dir: 'asc' })
    expect(nextSort(null, { field: 'cell', ind: 'I01', col: 'rank' })?.dir).toBe('asc')
    expect(nextSort(s1, { field: 'cell', ind: 'I03', col: 'value' })).toEqual({ field: 'cell', ind: 'I03', col: 'value', dir: 'desc' })
  })
})

describe('summary pivot', () => {
  it('transposes: indicators x figures as rows, members then the total as columns', () => {
    const p = pivot([A, C], TOTAL, ['I01', 'I03'])
    expect(p.columns).toEqual([
      { key: '430202', name: '荷塘区', total: false },
      { key: '430204', name: '石峰区', total: false },
      { key: '4302', name: '株洲市', total: true },
    ])
    expect(p.units.map((u) => u.value)).toEqual([21, 14, 58])
    expect(p.rows).toHaveLength(10)
    expect(p.rows.map((r) => `${r.ind}/${r.col}/${r.first}`).slice(0, 6)).toEqual([
      'I01/value/true',
      'I01/previous/false',
      'I01/growth/false',
      'I01/share/false',
      'I01/rank/false',
      'I03/value/true',
    ])
    expect(p.rows[0].cells).toEqual([
      { key: '430202', value: 300 },
      { key: '430204', value: 100 },
      { key: '4302', value: 600 },
    ])
    expect(p.rows[2].cells.map((c) => c.value)).toEqual([0.2, -0.2, 0.0667])
    expect(p.rows[5].cells.map((c) => c.value)).toEqual([null, null, null])
  })
  it('every cell of the pivot is the cell of the plain table (transposition loses nothing)', () => {
    const rows = [A, B, C, E]
    const p = pivot(rows, TOTAL, ['I01'])
    for (const pr of p.rows) {
      pr.cells.forEach((c, i) => {
        const src = i < rows.length ? rows[i] : TOTAL
        expect(c.key).toBe(src.key)
        expect(c.value).toBe(cellValue(src, pr.ind, pr.col))
      })
    }
  })
  it('works without a total and with chosen measures', () => {
    const p = pivot([A], null, ['I01'], ['growth'])
    expect(p.columns).toHaveLength(1)
    expect(p.rows).toEqual([{ ind: 'I01', col: 'growth', first: true, cells: [{ key: '430202', value: 0.2 }] }])
  })
})

describe('summary query', () => {
  it('needs form and period, fills the defaults', () => {
    expect(summaryQuery({ form: '', period: '2026M10', by: 'county' })).toBeNull()
    expect(summaryQuery({ form: 'B204-1', period: '2026M10', by: 'county' })).toEqual({
      form: 'B204-1',
      period: '2026M10',
      by: 'county',
      states: 'submitted',
      compare: 'ly',
    })
  })
  it('builds the query string and the Excel link from the same parameters', () => {
    const q = summaryQuery({ form: 'B204-1', period: '2026M10', by: 'section', states: 'accepted', compare: 'prev' })!
    expect(summaryParams(q)).toEqual({ form: 'B204-1', period: '2026M10', by: 'section', states: 'accepted', compare: 'prev' })
    expect(buildQuery(summaryParams(q))).toBe('?form=B204-1&period=2026M10&by=section&states=accepted&compare=prev')
    expect(summaryXlsxUrl(q)).toBe('/api/v1/summary.xlsx?form=B204-1&period=2026M10&by=section&states=accepted&compare=prev')
  })
  it('parses route parameters, falling back to the defaults', () => {
    expect(parseBy('division')).toBe('division')
    expect(parseBy('region')).toBeNull()
    expect(parseStates('accepted')).toBe('accepted')
    expect(parseStates('all')).toBe('submitted')
    expect(parseCompare('prev')).toBe('prev')
    expect(parseCompare(undefined)).toBe('ly')
    expect(parseIndicatorList('I01, I03,,')).toEqual(['I01', 'I03'])
    expect(parseIndicatorList(['I01'])).toEqual([])
  })
  it('puts the choices in the route query', () => {
    const q = summaryQuery({ form: 'B204-1', period: '2026M10', by: 'county' })!
    expect(routeQuery(q, [], false)).toEqual({ form: 'B204-1', period: '2026M10', by: 'county', states: 'submitted', compare: 'ly' })
    expect(routeQuery(q, ['I01', 'I05'], true)).toMatchObject({ ind: 'I01,I05', pivot: '1' })
  })
  it('picks the natural dimension for the user region', () => {
    expect(defaultBy('430200000000')).toBe('county')
    expect(defaultBy('430225000000')).toBe('township')
    expect(defaultBy('430225102000')).toBe('township')
    expect(defaultBy(undefined)).toBe('county')
  })
})

describe('summary indicators and chart', () => {
  const inds = ['I01', 'I01_YTD', 'I03', 'I03_YTD', 'I04', 'I05'].map((code) => ({ code, name: code }))
  it('defaults to the first four and keeps a choice to those available, in form order', () => {
    expect(chooseIndicators([], inds)).toEqual(['I01', 'I01_YTD', 'I03', 'I03_YTD'])
    expect(chooseIndicators(['I05', 'I01', 'X'], inds)).toEqual(['I01', 'I05'])
    expect(chooseIndicators(['X'], inds)).toEqual(['I01', 'I01_YTD', 'I03', 'I03_YTD'])
    expect(chooseIndicators(null, [])).toEqual([])
  })
  it("uses the summary's indicators, else the form's numeric ones", () => {
    expect(availableIndicators([{ code: 'I01', name: 'a' }], [])).toEqual([{ code: 'I01', name: 'a' }])
    expect(
      availableIndicators(null, [
        { code: 'I01', name: 'a', type: 'number', unit: '千元' },
        { code: 'T1', name: 't', type: 'text' },
        { code: 'N', name: 'n', type: 'integer' },
      ]).map((i) => i.code),
    ).toEqual(['I01', 'N'])
  })
  it('takes decimals from the form, then from the summary, integers 0', () => {
    expect(
      indicatorDecimals(
        [
          { code: 'I01', name: 'a', decimals: 2 },
          { code: 'I05', name: 'b', decimals: 3 },
        ],
        [
          { code: 'I01', name: 'a', type: 'number', decimals: 1 },
          { code: 'N', name: 'n', type: 'integer' },
          { code: 'X', name: 'x', type: 'number' },
        ],
      ),
    ).toEqual({ I01: 1, I05: 3, N: 0 })
    expect(indicatorDecimals(null, null)).toEqual({})
  })
  it('labels industry rows with their code', () => {
    expect(rowLabel({ key: 'C', name: '制造业' }, 'section')).toBe('C 制造业')
    expect(rowLabel({ key: '33', name: '金属制品业' }, 'division')).toBe('33 金属制品业')
    expect(rowLabel({ key: '430202', name: '荷塘区' }, 'county')).toBe('荷塘区')
    expect(rowLabel({ key: '1', name: '' }, 'size')).toBe('1')
  })
  it('gives bars of values and a growth line in percent', () => {
    const d = chartSeries([A, B, C], 'I01', 'county')
    expect(d.keys).toEqual(['430202', '430203', '430204'])
    expect(d.values).toEqual([300, 200, 100])
    expect(d.growth).toEqual([20, null, -20])
    expect(sumValues([A, B, C, E], 'I01')).toBe(600)
  })
})

describe('summary messages', () => {
  it('has the same keys in Chinese and English', async () => {
    const zh = (await import('../i18n/zh-CN')).default as Record<string, unknown>
    const en = (await import('../i18n/en')).default as Record<string, unknown>
    const keys = (o: unknown, p = ''): string[] =>
      Object.entries(o as Record<string, unknown>).flatMap(([k, v]) => (v && typeof v === 'object' ? keys(v, `${p}${k}.`) : [`${p}${k}`]))
    for (const part of ['summary', 'outliers']) expect(keys(en[part]).sort()).toEqual(keys(zh[part]).sort())
    expect((zh.nav as Record<string, string>).summary).toBe('汇总')
  })
})
