// A generic JSON-stat reader (the npm package jsonstat-toolkit) reads the portal's JSON-stat; a
// value found by its dimension *labels* equals the dataset JSON's.
// Run: PORTAL_URL=http://127.0.0.1:PORT node --test clients/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import JSONstat from 'jsonstat-toolkit'
import { close, getJson, mainDataset, observationsByCode, requirePortal, sampleObservation } from './support.mjs'

/** The category id of a dimension whose label is one of `labels`. */
function categoryByLabel(dim, labels) {
  for (const id of dim.id) {
    const c = dim.Category(id)
    if (c && labels.includes(c.label)) return id
  }
  return null
}

for (const lang of ['zh', 'en']) {
  test(`jsonstat-toolkit reads a value by dimension labels (${lang})`, async () => {
    requirePortal()
    const ds = await mainDataset()
    const js = await getJson(`/api/v1/datasets/${ds.id}/data?format=jsonstat&lang=${lang}`)
    const j = JSONstat(js)
    assert.equal(j.class, 'dataset')
    const d = j.Dataset(0)
    assert.deepEqual(d.id, ds.dimensions.map((x) => x.id))
    assert.equal(d.n, ds.dimensions.reduce((a, x) => a * x.codes.length, 1))

    for (const sample of [sampleObservation(ds), observationsByCode(ds).find((o) => o.status === 'C')].filter(Boolean)) {
      const query = {}
      for (const dim of ds.dimensions) {
        const code = dim.codes.find((c) => c.id === sample.codes[dim.id])
        const id = categoryByLabel(d.Dimension(dim.id), [code.name_zh, code.name_en, code.id])
        assert.ok(id, `${dim.id}: a category labelled ${code.name_zh} / ${code.name_en}`)
        query[dim.id] = id
      }
      const got = d.Data(query)
      assert.ok(got, `a datum at ${JSON.stringify(query)}`)
      if (sample.value === null) assert.equal(got.value, null, 'the suppressed cell has no value')
      else assert.ok(close(got.value, sample.value), `${JSON.stringify(query)}: ${got.value} vs ${sample.value}`)
    }
  })
}
