// A generic SDMX REST client (the npm package sdmx-rest) builds the URLs and fetches from the
// portal's /rest: it lists the dataflows and fetches the data of one series key.
// Run: PORTAL_URL=http://127.0.0.1:PORT node --test clients/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import sdmxrest from 'sdmx-rest'
import { catalogue, close, mainDataset, observationsByCode, PORTAL_URL, requirePortal, sampleObservation } from './support.mjs'

const SDMX_JSON = 'application/vnd.sdmx.data+json;version=1.0.0'
const STRUCTURE_XML = 'application/vnd.sdmx.structure+xml;version=2.1'

function service() {
  return sdmxrest.getService({ url: `${PORTAL_URL}/rest`, api: 'v1.5.0', id: 'statgov', name: 'statgov portal' })
}

test('sdmx-rest lists the dataflows', async () => {
  requirePortal()
  const q = sdmxrest.getMetadataQuery({ resource: 'dataflow', agency: 'all', id: 'all', version: 'latest' })
  const url = sdmxrest.getUrl(q, service())
  assert.ok(url.startsWith(`${PORTAL_URL}/rest/dataflow/all/all/latest`), url)
  const res = await sdmxrest.request2(q, service(), { headers: { accept: STRUCTURE_XML } })
  assert.equal(res.status, 200, url)
  sdmxrest.checkMediaType(STRUCTURE_XML, res)
  const xml = await res.text()
  const flows = [...xml.matchAll(/<str:Dataflow\b[^>]*\bid="([^"]+)"/g)].map((m) => m[1])
  for (const d of await catalogue()) assert.ok(flows.includes(d.id), `dataflow ${d.id} listed (got ${flows.join(', ')})`)
})

test('sdmx-rest fetches the data of one series key', async () => {
  requirePortal()
  const ds = await mainDataset()
  const sample = sampleObservation(ds)
  const nonTime = ds.dimensions.filter((d) => d.id !== 'TIME_PERIOD')
  const key = nonTime.map((d) => sample.codes[d.id]).join('.')
  const q = sdmxrest.getDataQuery({ flow: `${ds.agency},${ds.id},${ds.version}`, key })
  const url = sdmxrest.getUrl(q, service())
  assert.ok(url.includes(`/rest/data/${ds.agency},${ds.id},${ds.version}/${key}`), url)
  const text = await sdmxrest.request(q, service(), { headers: { accept: SDMX_JSON } })
  const msg = JSON.parse(text)
  const structure = msg.data?.structure ?? msg.structure
  const dataSet = (msg.data?.dataSets ?? msg.dataSets)[0]
  const series = Object.values(dataSet.series ?? {})
  assert.equal(series.length, 1, `one series for key ${key}`)
  const timeDim = structure.dimensions.observation.find((d) => d.id === 'TIME_PERIOD')
  assert.ok(timeDim, 'TIME_PERIOD at the observation level')
  const expected = observationsByCode(ds).filter((o) => nonTime.every((d) => o.codes[d.id] === sample.codes[d.id]))
  const got = Object.entries(series[0].observations)
  assert.equal(got.length, expected.length, 'one observation per period of the series')
  for (const [k, v] of got) {
    const period = timeDim.values[Number(k)].id
    const e = expected.find((o) => o.codes.TIME_PERIOD === period)
    assert.ok(e, `period ${period}`)
    if (e.value === null) assert.equal(v[0], null)
    else assert.ok(close(v[0], e.value), `${period}: ${v[0]} vs ${e.value}`)
  }
})

test('sdmx-rest reports a missing flow as an error', async () => {
  requirePortal()
  const q = sdmxrest.getDataQuery({ flow: 'NO_SUCH_FLOW', key: 'all' })
  await assert.rejects(sdmxrest.request(q, service(), { headers: { accept: SDMX_JSON } }), /404/)
})
