import { describe, expect, it } from 'vitest'
import type { ProgressRow } from '../api/types'
import {
  chartData,
  completionRate,
  drillTo,
  formatRate,
  isRegionKey,
  mapData,
  onTimeRate,
  percent,
  rateColor,
  sumRows,
} from './progress'

function row(p: Partial<ProgressRow>): ProgressRow {
  return {
    key: '430202000000',
    name: '荷塘区',
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
    ...p,
  }
}

describe('progress rates', () => {
  it('completion is submitted / expected, 0 when nothing is expected, clamped', () => {
    expect(completionRate(row({ expected: 4, submitted: 1 }))).toBe(0.25)
    expect(completionRate(row({ expected: 0, submitted: 0 }))).toBe(0)
    expect(completionRate(row({ expected: 2, submitted: 3 }))).toBe(1)
  })
  it('on-time rate prefers the server figure and falls back to on_time / expected', () => {
    expect(onTimeRate(row({ expected: 10, on_time: 3, on_time_rate: 0.3 }))).toBe(0.3)
    expect(onTimeRate({ expected: 8, on_time: 2, on_time_rate: undefined as unknown as number })).toBe(0.25)
    expect(onTimeRate({ expected: 0, on_time: 0, on_time_rate: NaN })).toBe(0)
  })
  it('formats percents', () => {
    expect(percent(0.456)).toBe(46)
    expect(percent(1.2)).toBe(100)
    expect(percent(NaN)).toBe(0)
    expect(formatRate(0.4567)).toBe('45.7%')
    expect(formatRate(0)).toBe('0.0%')
    expect(rateColor(0.95)).toBe('#67c23a')
    expect(rateColor(0.7)).toBe('#e6a23c')
    expect(rateColor(0.1)).toBe('#f56c6c')
  })
  it('sums rows into a total', () => {
    const t = sumRows([row({ expected: 3, submitted: 1, on_time: 1 }), row({ expected: 1, submitted: 1, on_time: 1, overdue: 0 })])
    expect(t.expected).toBe(4)
    expect(t.submitted).toBe(2)
    expect(t.on_time_rate).toBe(0.5)
  })
})

describe('drill-down', () => {
  it('knows region keys from section keys', () => {
    expect(isRegionKey('430202000000')).toBe(true)
    expect(isRegionKey('C')).toBe(false)
  })
  it('appends a child and cuts back when going up', () => {
    const root = { code: '430200000000', name: '株洲市' }
    const county = { code: '430202000000', name: '荷塘区' }
    const town = { code: '430202001000', name: '月塘街道' }
    const trail = drillTo(drillTo([root], county), town)
    expect(trail.map((c) => c.code)).toEqual([root.code, county.code, town.code])
    expect(drillTo(trail, county)).toEqual([root, county])
    expect(drillTo(trail, root)).toEqual([root])
  })
})

describe('chart data', () => {
  const rows = [
    row({ key: '430202000000', name: '荷塘区', expected: 4, submitted: 1 }),
    row({ key: '430212000000', name: '渌口区', expected: 3, submitted: 3 }),
    row({ key: '430299000000', name: '某新区', expected: 0, submitted: 0 }),
  ]
  it('bar data is completion in percent with one decimal', () => {
    expect(chartData(rows).map((d) => d.value)).toEqual([25, 100, 0])
    expect(chartData([row({ expected: 3, submitted: 1 })])[0].value).toBe(33.3)
  })
  it('map data matches features by name, with the 株洲县 -> 渌口区 alias', () => {
    const geo = { features: [{ properties: { name: '荷塘区' } }, { properties: { name: '株洲县' } }, { properties: null }] }
    const { data, unmatched } = mapData(rows, geo)
    expect(data.map((d) => [d.name, d.feature, d.value])).toEqual([
      ['荷塘区', '荷塘区', 25],
      ['渌口区', '株洲县', 100],
    ])
    expect(unmatched).toEqual(['某新区'])
  })
})
