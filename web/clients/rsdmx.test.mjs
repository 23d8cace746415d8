// Runs clients/rsdmx_test.R (rsdmx::readSDMX on the portal's dataflows, data structure with its
// code lists, and data) for the main dataset. Skipped, saying so, only when Rscript is missing.
// Run: PORTAL_URL=http://127.0.0.1:PORT node --test clients/
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { mainDataset, PORTAL_URL, requirePortal } from './support.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const RSCRIPT = process.env.RSCRIPT || 'Rscript'
const haveR = spawnSync(RSCRIPT, ['--version'], { encoding: 'utf8' }).status === 0

test('rsdmx reads the portal (dataflows, data structure, data)', { skip: haveR ? false : `${RSCRIPT} not found: install r-base-core and r-cran-rsdmx to run this test` }, async () => {
  requirePortal()
  const ds = await mainDataset()
  const r = spawnSync(RSCRIPT, [path.join(HERE, 'rsdmx_test.R'), PORTAL_URL, ds.id], { encoding: 'utf8', timeout: 120000 })
  const out = `${r.stdout}\n${r.stderr}`
  assert.equal(r.status, 0, `rsdmx_test.R failed:\n${out}`)
  assert.match(r.stdout, /ALL OK/)
})
