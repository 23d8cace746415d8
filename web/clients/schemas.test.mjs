// The portal's open-data outputs validate against the published schemas (data/standards/, see its
// SOURCE.md): JSON-stat 2.0 from /api/v1/datasets/{id}/data?format=jsonstat and SDMX-JSON 1.0 data
// from /rest/data. ajv alone is not enough (SOURCE.md "Traps"): the SDMX-JSON schema compiles only
// with unicodeRegExp false and has no top-level `required`, and the JSON-stat schema accepts a value
// array of the wrong length, so the shape and the lengths are checked here too.
// Run: PORTAL_URL=http://127.0.0.1:PORT node --test clients/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import Ajv from 'ajv'
import Ajv2020 from 'ajv/dist/2020.js'
import addFormats from 'ajv-formats'
import { allDatasets, close, get, observationsByCode, readSchema, requirePortal } from './support.mjs'

function jsonStatValidator() {
  // unicodeRegExp false: the schema's date pattern escapes '-', which a /u regular expression refuses.
  const ajv = new Ajv2020({ strict: false, allErrors: true, unicodeRegExp: false })
  addFormats(ajv)
  return ajv.compile(readSchema('json-stat-2.0/dataset.json'))
}

function sdmxJsonValidator() {
  const schema = readSchema('sdmx-json-1.0/sdmx-json-data-schema.json')
  // Draft-04 style ("$schema": "http://json-schema.org/schema#", "id"): ajv 8 reads it as draft-07
  // once the meta-schema reference is gone and the id is spelled $id.
  delete schema.$schema
  if (schema.id) {
    schema.$id = schema.id
    delete schema.id
  }
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false, validateSchema: false })
  addFormats(ajv)
  return ajv.compile(schema)
}

function errorsOf(validate) {
  return (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath} ${e.message}`).join('; ')
}

test('JSON-stat 2.0 of every dataset validates, with value length = product of size', async () => {
  requirePortal()
  const validate = jsonStatValidator()
  for (const ds of await allDatasets()) {
    const res = await get(`/api/v1/datasets/${ds.id}/data?format=jsonstat`)
    assert.equal(res.status, 200, `jsonstat of ${ds.id}`)
    assert.match(res.headers.get('content-type') ?? '', /json/, 'a JSON content type')
    const js = await res.json()
    assert.ok(validate(js), `${ds.id}: ${errorsOf(validate)}`)
    // The shape the schema does not enforce.
    assert.equal(js.version, '2.0')
    assert.equal(js.class, 'dataset')
    assert.deepEqual(js.id, ds.dimensions.map((d) => d.id), 'dimension ids in dataset order')
    assert.deepEqual(js.size, ds.dimensions.map((d) => d.codes.length), 'sizes are the code counts')
    const n = js.size.reduce((a, b) => a * b, 1)
    const values = Array.isArray(js.value) ? js.value : null
    if (values) assert.equal(values.length, n, 'value length is the product of size')
    else for (const k of Object.keys(js.value)) assert.ok(Number(k) >= 0 && Number(k) < n, `sparse index ${k} in range`)
    for (const id of js.id) assert.ok(js.dimension[id]?.category?.index, `dimension ${id} has categories`)
    // Every observation of the dataset JSON sits at its row-major index.
    for (const o of ds.observations) {
      let idx = 0
      for (let i = 0; i < o.key.length; i++) idx = idx * js.size[i] + o.key[i]
      const v = values ? values[idx] : js.value[String(idx)]
      if (o.value === null || o.value === undefined) assert.ok(v === null || v === undefined, `${ds.id}[${o.key}] suppressed/missing is null`)
      else assert.ok(close(v, o.value), `${ds.id}[${o.key}] = ${v}, dataset JSON ${o.value}`)
    }
  }
})

test('SDMX-JSON 1.0 data of every dataset validates and carries every observation', async () => {
  requirePortal()
  const validate = sdmxJsonValidator()
  for (const ds of await allDatasets()) {
    const res = await get(`/rest/data/${ds.agency},${ds.id},${ds.version}/all`, {
      Accept: 'application/vnd.sdmx.data+json;version=1.0.0',
    })
    assert.equal(res.status, 200, `sdmx-json of ${ds.id}`)
    assert.match(res.headers.get('content-type') ?? '', /application\/vnd\.sdmx\.data\+json/)
    const msg = await res.json()
    assert.ok(validate(msg), `${ds.id}: ${errorsOf(validate)}`)
    // The required shape the schema leaves open.
    assert.equal(typeof msg.meta?.id, 'string', 'meta.id')
    assert.match(msg.meta?.prepared ?? '', /(Z|[+-]\d{2}:\d{2})$/, 'meta.prepared carries a time zone')
    const structure = msg.data?.structure ?? msg.structure
    assert.ok(structure?.dimensions, 'structure.dimensions')
    const dataSets = msg.data?.dataSets ?? msg.dataSets
    assert.ok(Array.isArray(dataSets) && dataSets.length === 1, 'one data set')
    const seriesDims = structure.dimensions.series ?? []
    const obsDims = structure.dimensions.observation ?? []
    assert.deepEqual(
      [...seriesDims, ...obsDims].map((d) => d.id).sort(),
      ds.dimensions.map((d) => d.id).sort(),
      'the dataset dimensions',
    )
    // Decode every observation back to codes and compare with the dataset JSON.
    const want = new Map(observationsByCode(ds).map((o) => [ds.dimensions.map((d) => o.codes[d.id]).join('|'), o]))
    let count = 0
    for (const [sk, series] of Object.entries(dataSets[0].series ?? {})) {
      const sIdx = sk.split(':').map(Number)
      for (const [ok, obs] of Object.entries(series.observations ?? {})) {
        const oIdx = ok.split(':').map(Number)
        const codes = {}
        seriesDims.forEach((d, i) => (codes[d.id] = d.values[sIdx[i]].id))
        obsDims.forEach((d, i) => (codes[d.id] = d.values[oIdx[i]].id))
        const key = ds.dimensions.map((d) => codes[d.id]).join('|')
        const w = want.get(key)
        assert.ok(w, `${ds.id}: observation ${key} is in the dataset`)
        if (w.value === null) assert.equal(obs[0], null, `${key} suppressed/missing has no value`)
        else assert.ok(close(obs[0], w.value), `${key}: ${obs[0]} vs ${w.value}`)
        count++
      }
    }
    assert.equal(count, ds.observations.length, `${ds.id}: every observation once`)
  }
})

test('bad requests answer with the platform error body', async () => {
  requirePortal()
  const res = await get('/rest/data/NO_SUCH_FLOW/all', { Accept: 'application/vnd.sdmx.data+json;version=1.0.0' })
  assert.equal(res.status, 404)
  const body = await res.json()
  assert.equal(typeof body.error?.code, 'string')
  assert.equal(typeof body.error?.message_en, 'string')
})
