// Shared by the open-data client tests: where the portal is, how to fetch from it, and the dataset
// JSON (docs/publication.md section 3) the open formats are checked against.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const PORTAL_URL = (process.env.PORTAL_URL || '').replace(/\/+$/, '')
const HERE = path.dirname(fileURLToPath(import.meta.url))
export const STANDARDS = path.join(HERE, '..', '..', 'data', 'standards')

/** Fails the calling test with a clear message when PORTAL_URL is missing. */
export function requirePortal() {
  if (!PORTAL_URL) {
    throw new Error('PORTAL_URL is not set: start a portal (tools/portal_fixture.sh) and run with PORTAL_URL=http://127.0.0.1:PORT')
  }
}

export function readSchema(rel) {
  return JSON.parse(fs.readFileSync(path.join(STANDARDS, rel), 'utf8'))
}

export async function get(urlPath, headers = {}) {
  const res = await fetch(PORTAL_URL + urlPath, { headers })
  return res
}

export async function getJson(urlPath, headers = { Accept: 'application/json' }) {
  const res = await get(urlPath, headers)
  const text = await res.text()
  if (res.status !== 200) throw new Error(`GET ${urlPath}: HTTP ${res.status} ${text.slice(0, 300)}`)
  return JSON.parse(text)
}

/** The catalogue (GET /api/v1/datasets): a bare array or {datasets|items: [...]}. */
export async function catalogue() {
  const body = await getJson('/api/v1/datasets')
  const list = Array.isArray(body) ? body : body.datasets ?? body.items ?? []
  if (!list.length) throw new Error('the portal publishes no dataset: is the fixture package accepted?')
  return list
}

/** Every published dataset in its JSON form. */
export async function allDatasets() {
  const out = []
  for (const entry of await catalogue()) out.push(await getJson(`/api/v1/datasets/${encodeURIComponent(entry.id)}`))
  return out
}

/** The dataset with a geo dimension and the most observations (else the largest one). */
export async function mainDataset() {
  const all = await allDatasets()
  all.sort(
    (a, b) =>
      Number(b.dimensions.some((d) => d.role === 'geo')) - Number(a.dimensions.some((d) => d.role === 'geo')) ||
      b.observations.length - a.observations.length,
  )
  return all[0]
}

/** Observations as {codes: {DIM: codeId}, value, status}. */
export function observationsByCode(ds) {
  return ds.observations.map((o) => {
    const codes = {}
    ds.dimensions.forEach((d, i) => (codes[d.id] = d.codes[o.key[i]].id))
    return { codes, value: o.value ?? null, status: o.status ?? '' }
  })
}

/** The first observation with a value whose geo code has a parent (a county), else the first with a value. */
export function sampleObservation(ds) {
  const obs = observationsByCode(ds)
  const geo = ds.dimensions.find((d) => d.role === 'geo')
  const child = geo ? new Set(geo.codes.filter((c) => c.parent).map((c) => c.id)) : null
  return (
    obs.find((o) => o.value !== null && (!child || child.has(o.codes[geo.id]))) ?? obs.find((o) => o.value !== null)
  )
}

export function close(a, b, eps = 1e-6) {
  return Math.abs(Number(a) - Number(b)) <= eps * Math.max(1, Math.abs(Number(b)))
}
