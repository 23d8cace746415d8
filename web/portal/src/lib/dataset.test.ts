import { describe, expect, it } from 'vitest'
import type { Dataset } from '../api/types'
import {
  cellText,
  childRegions,
  defaultPivot,
  defaultSelection,
  formatValue,
  keyFigure,
  ObservationIndex,
  pivot,
  series,
  unitOf,
} from './dataset'

// 3 regions x 2 indicators x 2 periods; one suppressed cell, one missing, one absent.
const ds: Dataset = {
  id: 'T',
  agency: 'CN_430200',
  version: '1.0',
  title_zh: '测试',
  title_en: 'Test',
  unit_zh: '万元',
  unit_en: '10,000 yuan',
  decimals: 1,
  dimensions: [
    {
      id: 'REGION',
      name_zh: '地区',
      name_en: 'Region',
      role: 'geo',
      codes: [
        { id: '430200', name_zh: '株洲市', name_en: 'Zhuzhou', parent: '' },
        { id: '430202', name_zh: '荷塘区', name_en: 'Hetang', parent: '430200' },
        { id: '430203', name_zh: '芦淞区', name_en: 'Lusong', parent: '430200' },
      ],
    },
    {
      id: 'INDICATOR',
      name_zh: '指标',
      name_en: 'Indicator',
      role: 'metric',
      codes: [
        { id: 'I01', name_zh: '营业收入', name_en: 'Revenue' },
        { id: 'I01_YOY', name_zh: '营业收入增速', name_en: 'Revenue growth', unit_zh: '%', unit_en: '%' },
      ],
    },
    {
      id: 'TIME_PERIOD',
      name_zh: '时间',
      name_en: 'Time',
      role: 'time',
      codes: [
        { id: '2026-10', name_zh: '2026年10月', name_en: 'Oct 2026' },
        { id: '2026-11', name_zh: '2026年11月', name_en: 'Nov 2026' },
      ],
    },
  ],
  observations: [
    { key: [0, 0, 0], value: 100 },
    { key: [0, 0, 1], value: 110 },
    { key: [1, 0, 0], value: 60 },
    { key: [1, 0, 1], value: 70 },
    { key: [2, 0, 0], value: null, status: 'C' },
    { key: [2, 0, 1], value: null, status: 'M' },
    { key: [0, 1, 1], value: 10 },
  ],
}

describe('pivot', () => {
  const idx = new ObservationIndex(ds.observations)

  it('defaults to regions by periods, the city, the first indicator and the newest period', () => {
    expect(defaultPivot(ds)).toEqual({ rows: 0, cols: 2 })
    expect(defaultSelection(ds)).toEqual([0, 0, 1])
  })

  it('puts the indicators across when there is a single period', () => {
    const one: Dataset = { ...ds, dimensions: ds.dimensions.map((d) => (d.id === 'TIME_PERIOD' ? { ...d, codes: d.codes.slice(0, 1) } : d)) }
    expect(defaultPivot(one)).toEqual({ rows: 0, cols: 1 })
  })

  it('lays out cells with their status and counts suppressed ones', () => {
    const p = pivot(ds, idx, 0, 2, [0, 0, 1])
    expect(p.rows.map((c) => c.id)).toEqual(['430200', '430202', '430203'])
    expect(p.cols.map((c) => c.id)).toEqual(['2026-10', '2026-11'])
    expect(p.cells[1][1]).toEqual({ value: 70, status: '' })
    expect(p.cells[2][0]).toEqual({ value: null, status: 'C' })
    expect(p.cells[2][1]).toEqual({ value: null, status: 'M' })
    expect(p.suppressed).toBe(1)
    expect(p.missing).toBe(1)
  })

  it('swapping rows and columns transposes the table', () => {
    const a = pivot(ds, idx, 0, 2, [0, 0, 1])
    const b = pivot(ds, idx, 2, 0, [0, 0, 1])
    for (let r = 0; r < a.rows.length; r++) for (let c = 0; c < a.cols.length; c++) expect(b.cells[c][r]).toEqual(a.cells[r][c])
  })

  it('uses the selection for the dimensions not in the table', () => {
    const p = pivot(ds, idx, 0, 2, [0, 1, 0])
    expect(p.cells[0][1]).toEqual({ value: 10, status: '' })
    expect(p.cells[1][1]).toEqual({ value: null, status: 'none' })
  })

  it('shows suppressed cells as an ellipsis and absent ones as a dash', () => {
    expect(cellText({ value: null, status: 'C' })).toBe('…')
    expect(cellText({ value: null, status: 'M' })).toBe('—')
    expect(cellText({ value: null, status: 'none' })).toBe('—')
    expect(cellText({ value: 1234.56, status: '' }, 1, 'en')).toBe('1,234.6')
  })

  it('builds series along a dimension', () => {
    expect(series(ds, idx, 2, [1, 0, 0]).map((c) => c.value)).toEqual([60, 70])
    expect(series(ds, idx, 0, [0, 0, 0]).map((c) => c.status)).toEqual(['', '', 'C'])
  })
})

describe('figures and units', () => {
  it('takes the unit of the indicator code over the dataset', () => {
    expect(unitOf(ds, [0, 0, 0], 'zh')).toBe('万元')
    expect(unitOf(ds, [0, 1, 0], 'en')).toBe('%')
  })

  it('key figure: the city, the first indicator, the newest period with a value and the one before', () => {
    const f = keyFigure(ds, 'en')
    expect(f).toMatchObject({ region: 'Zhuzhou', indicator: 'Revenue', period: 'Nov 2026', value: 110, previous: 100 })
  })

  it('child regions are the codes below the top level', () => {
    expect(childRegions(ds.dimensions[0]).map((x) => x.code.id)).toEqual(['430202', '430203'])
  })

  it('formats with the given decimals', () => {
    expect(formatValue(3, 2, 'en')).toBe('3.00')
    expect(formatValue(null)).toBe('')
  })
})
