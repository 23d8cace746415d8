import { describe, expect, it } from 'vitest'
import { boundaryLoader, code12, matchFeatures } from './geo'

describe('county boundaries', () => {
  it('finds the boundary file of a city by its 6- or 12-digit code', () => {
    expect(code12('430200')).toBe('430200000000')
    expect(boundaryLoader('430200')).not.toBeNull()
    expect(boundaryLoader('110000')).toBeNull()
    expect(boundaryLoader('')).toBeNull()
  })

  it('matches codes to features by name, with the 株洲县 -> 渌口区 alias, else by id', () => {
    const geo = {
      features: [
        { id: '430202', properties: { name: '荷塘区' } },
        { id: '430221', properties: { name: '株洲县' } },
        { id: '430281', properties: { name: '醴陵' } },
      ],
    }
    const m = matchFeatures(
      [
        { id: '430202', name_zh: '荷塘区', name_en: 'Hetang' },
        { id: '430212', name_zh: '渌口区', name_en: 'Lukou' },
        { id: '430281', name_zh: '醴陵市', name_en: 'Liling' },
        { id: '430299', name_zh: '不存在', name_en: 'None' },
      ],
      geo,
    )
    expect([...m.entries()]).toEqual([
      ['430202', '荷塘区'],
      ['430212', '株洲县'],
      ['430281', '醴陵'],
    ])
  })
})
