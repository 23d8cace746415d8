import { describe, expect, it } from 'vitest'
import { hasBoundaries } from './boundaries'
import { mapData } from './progress'
import type { ProgressRow } from '../api/types'
import geoText from '../assets/geo/hu2_nan2_zhu1_zhou1.geojson?raw'

// The 9 county-level divisions of 株洲市 in the directory (data/refdata/zhuzhou_divisions.csv).
const COUNTIES: Array<[string, string]> = [
  ['430202000000', '荷塘区'],
  ['430203000000', '芦淞区'],
  ['430204000000', '石峰区'],
  ['430211000000', '天元区'],
  ['430212000000', '渌口区'],
  ['430223000000', '攸县'],
  ['430224000000', '茶陵县'],
  ['430225000000', '炎陵县'],
  ['430281000000', '醴陵市'],
]

describe('株洲市 boundary file', () => {
  const geo = JSON.parse(geoText)
  it('is a feature collection of polygons', () => {
    expect(geo.type).toBe('FeatureCollection')
    expect(geo.features).toHaveLength(9)
    for (const f of geo.features) expect(['Polygon', 'MultiPolygon']).toContain(f.geometry.type)
  })
  it('matches every county of the directory, 渌口区 through its old name 株洲县', () => {
    const rows = COUNTIES.map(([key, name], i) => ({ key, name, expected: 10, submitted: i } as unknown as ProgressRow))
    const { data, unmatched } = mapData(rows, geo)
    expect(unmatched).toEqual([])
    expect(data.find((d) => d.name === '渌口区')?.feature).toBe('株洲县')
  })
  it('is offered for 株洲市 only', () => {
    expect(hasBoundaries('430200000000')).toBe(true)
    expect(hasBoundaries('430202000000')).toBe(false)
    expect(hasBoundaries(undefined)).toBe(false)
  })
})
