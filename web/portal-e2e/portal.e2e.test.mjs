// Browser end-to-end test of the public portal (docs/publication.md section 4) against a running
// `statgov portal` that has accepted a package with the site (tools/portal_fixture.sh).
// Run: PORTAL_URL=http://127.0.0.1:PORT npm run e2e:portal   (CHROMIUM overrides /usr/bin/chromium)
//
// In Chinese and in English: the home page (key figures, latest releases, upcoming entries), the
// calendar (minutes in Beijing time), the dataset with a geo dimension (pivot table against the
// dataset JSON, swapping rows and columns, a suppressed cell shown as "…", line and bar charts drawn,
// the county map when boundaries exist, every download link answering 200 with its content type,
// the SDMX link), the documents (search, category, detail with an attachment). Once more at phone
// size (390x844): no horizontal scrolling of the page, the table scrolls inside its box. Read-only.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { withBrowser } from '../e2e/support.mjs'

const PORTAL_URL = (process.env.PORTAL_URL || '').replace(/\/+$/, '')
const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results')
const CONTENT_TYPES = {
  csv: /^text\/csv/,
  xlsx: /^application\/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet/,
  'sdmx-csv': /^application\/vnd\.sdmx\.data\+csv/,
  jsonstat: /^application\/json/,
}
/** Cities whose county boundaries the site ships (web/src/lib/boundaries.ts). */
const CITIES_WITH_MAP = ['430200']

function beijingMinute(iso) {
  const d = new Date(Date.parse(iso) + 8 * 3600 * 1000)
  return d.toISOString().slice(0, 16).replace('T', ' ')
}

async function api(urlPath) {
  const res = await fetch(PORTAL_URL + urlPath, { headers: { Accept: 'application/json' } })
  assert.equal(res.status, 200, `GET ${urlPath}`)
  return res.json()
}
const listOf = (b, k) => (Array.isArray(b) ? b : (b[k] ?? b.items ?? []))

/** The dataset with a geo dimension and a suppressed cell if there is one. */
async function pickDataset() {
  const cat = listOf(await api('/api/v1/datasets'), 'datasets')
  assert.ok(cat.length, 'the portal publishes datasets')
  const full = await Promise.all(cat.map((d) => api(`/api/v1/datasets/${encodeURIComponent(d.id)}`)))
  const score = (d) => 2 * Number(d.dimensions.some((x) => x.role === 'geo')) + Number(d.observations.some((o) => o.status === 'C'))
  full.sort((a, b) => score(b) - score(a))
  return full[0]
}

async function openPage(browser, pages, errors, { lang, viewport, role }) {
  const context = await browser.newContext({ locale: lang === 'en' ? 'en-US' : 'zh-CN', viewport })
  const page = await context.newPage()
  page.setDefaultTimeout(15000)
  page.on('pageerror', (e) => errors.push(`${role}: ${e}`))
  pages.push({ role, page, context })
  return page
}

async function noPageScroll(page, where) {
  const [sw, cw] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth])
  assert.ok(sw <= cw + 1, `${where}: the page does not scroll sideways (scrollWidth ${sw} > ${cw})`)
}

async function walk(page, lang, ds, { phone = false } = {}) {
  const L = (zh, en) => (lang === 'en' ? en : zh)
  const label = (x) => (lang === 'en' ? x.name_en || x.name_zh : x.name_zh || x.name_en)
  const title = (x) => (lang === 'en' ? x.title_en || x.title_zh : x.title_zh || x.title_en)

  // Home.
  await page.goto(`${PORTAL_URL}/?lang=${lang}`, { waitUntil: 'networkidle' })
  await page.locator('[data-testid="home"][data-loaded="true"]').waitFor()
  assert.equal(await page.evaluate(() => document.documentElement.lang), lang === 'en' ? 'en' : 'zh-CN')
  assert.equal((await page.locator('[data-testid="nav-calendar"]').innerText()).trim(), L('发布日历', 'Release calendar'))
  assert.ok((await page.locator('[data-testid="key-figures"] [data-dataset]').count()) >= 1, 'key figure cards')
  const releases = listOf(await api('/api/v1/releases'), 'releases')
  if (releases.length) {
    const first = page.locator(`[data-testid="latest-releases"] [data-release="${releases[0].id}"]`)
    assert.match(await first.innerText(), new RegExp(title(releases[0]).slice(0, 8).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
  }
  const calendar = listOf(await api('/api/v1/calendar'), 'calendar')
  const future = calendar.filter((c) => Date.parse(c.release_at) > Date.now() && c.status !== 'published')
  if (future.length) assert.ok((await page.locator('[data-testid="upcoming"] [data-entry]').count()) >= 1, 'upcoming entries')
  if (phone) await noPageScroll(page, 'home')

  // Calendar: each entry of the current year with its minute in Beijing time.
  await page.locator('[data-testid="nav-calendar"]').click()
  await page.locator('[data-testid="calendar"][data-loaded="true"]').waitFor()
  const year = Number(await page.locator('[data-testid="calendar"]').getAttribute('data-year'))
  for (const c of calendar.filter((x) => new Date(Date.parse(x.release_at) + 8 * 3600e3).getUTCFullYear() === year)) {
    const li = page.locator(`[data-testid="calendar"] li[data-entry="${c.id}"]`)
    const text = await li.innerText()
    assert.ok(text.includes(beijingMinute(c.release_at)), `${c.id} at ${beijingMinute(c.release_at)} Beijing time: ${text}`)
    assert.ok(text.includes(title(c)), `${c.id} titled in ${lang}`)
  }
  if (phone) await noPageScroll(page, 'calendar')

  // Dataset: the pivot table against the dataset JSON.
  await page.goto(`${PORTAL_URL}/datasets/${ds.id}`, { waitUntil: 'networkidle' })
  await page.locator('[data-testid="dataset"][data-loaded="true"]').waitFor()
  assert.equal((await page.locator('[data-testid="dataset-title"]').innerText()).trim(), title(ds))
  const table = page.locator('[data-testid="pivot-table"]')
  const geo = ds.dimensions.findIndex((d) => d.role === 'geo')
  const dimAt = (id) => ds.dimensions.findIndex((d) => d.id === id)
  // Regions down the rows; across: the periods, or the indicators when there is one period.
  const r = dimAt(await table.getAttribute('data-rows'))
  const c = dimAt(await table.getAttribute('data-cols'))
  assert.equal(r, geo, 'regions down the rows')
  assert.ok(c >= 0 && c !== r, 'another dimension across')
  assert.equal(await table.locator('tbody tr').count(), ds.dimensions[r].codes.length, 'one row per region')
  // A suppressed cell: choose its other codes in the selectors, then read it.
  const sup = ds.observations.find((o) => o.status === 'C') ?? null
  const sample = sup ?? ds.observations.find((o) => o.value !== null)
  for (let i = 0; i < ds.dimensions.length; i++) {
    if (i === r || i === c) continue
    await page.locator(`[data-testid="pivot-filters"] select[data-dim="${ds.dimensions[i].id}"]`).selectOption(String(sample.key[i]))
  }
  const rowCode = ds.dimensions[r].codes[sample.key[r]].id
  const colCode = ds.dimensions[c].codes[sample.key[c]].id
  const cell = table.locator(`td[data-row="${rowCode}"][data-col="${colCode}"]`)
  if (sup) {
    assert.equal(await cell.getAttribute('data-status'), 'C')
    assert.equal((await cell.innerText()).trim(), '…', 'a suppressed cell reads "…"')
    await page.locator('[data-testid="suppressed-note"]').waitFor()
  } else {
    assert.equal(Number(await cell.getAttribute('data-value')), sample.value)
  }
  // Every cell in view equals the dataset JSON.
  const inView = ds.observations.filter((o) => o.key.every((k, i) => i === r || i === c || k === sample.key[i]))
  for (const o of inView) {
    const td = table.locator(`td[data-row="${ds.dimensions[r].codes[o.key[r]].id}"][data-col="${ds.dimensions[c].codes[o.key[c]].id}"]`)
    const v = await td.getAttribute('data-value')
    if (o.value === null) assert.equal(v, '')
    else assert.ok(Math.abs(Number(v) - o.value) < 1e-9, `${o.key}: ${v} vs ${o.value}`)
  }
  // Swap rows and columns.
  await page.locator('[data-testid="pivot-swap"]').click()
  await page.locator(`[data-testid="pivot-table"][data-rows="${ds.dimensions[c].id}"]`).waitFor()
  assert.equal(await table.getAttribute('data-cols'), ds.dimensions[r].id)
  assert.equal(await table.locator('tbody tr').count(), ds.dimensions[c].codes.length, 'one row per code of the other dimension after the swap')
  const swapped = table.locator(`tr[data-row-code="${colCode}"] td[data-col="${rowCode}"]`)
  assert.equal(await swapped.getAttribute('data-status'), sup ? 'C' : '', 'the same cell after the swap')
  assert.match((await table.locator('th').first().innerText()).trim(), new RegExp(label(ds.dimensions[c])))
  // Charts, for a county observation with a value.
  const valued =
    ds.observations.find((o) => o.value !== null && ds.dimensions[geo].codes[o.key[geo]].parent) ??
    ds.observations.find((o) => o.value !== null)
  for (let i = 0; i < ds.dimensions.length; i++) {
    await page.locator(`select[data-testid="chart-pick-${ds.dimensions[i].id}"]`).selectOption(String(valued.key[i]))
  }
  await page.locator('[data-testid="line-chart"] canvas').waitFor()
  await page.locator('[data-testid="bar-chart"] canvas').waitFor()
  assert.ok(Number(await page.locator('[data-testid="line-chart"]').getAttribute('data-points')) >= 1, 'the line chart has points')
  assert.ok(Number(await page.locator('[data-testid="bar-chart"]').getAttribute('data-points')) >= 1, 'the bar chart has bars')
  const top = ds.dimensions[geo].codes.find((c) => !c.parent)
  if (top && CITIES_WITH_MAP.includes(top.id)) {
    await page.locator('[data-testid="county-map"] canvas').waitFor({ state: 'visible' })
    const matched = Number(await page.locator('[data-testid="county-map"]').getAttribute('data-matched'))
    assert.equal(matched, ds.dimensions[geo].codes.filter((c) => c.parent).length, 'every county on the map')
  }
  // Downloads.
  for (const [fmt, type] of Object.entries(CONTENT_TYPES)) {
    const href = await page.locator(`[data-testid="download-${fmt}"]`).getAttribute('href')
    assert.equal(href, `/api/v1/datasets/${ds.id}/data?format=${fmt}`)
    const res = await page.request.get(PORTAL_URL + href)
    assert.equal(res.status(), 200, `${fmt} download`)
    assert.match(res.headers()['content-type'] ?? '', type, `${fmt} content type`)
    assert.ok((await res.body()).length > 0, `${fmt} has bytes`)
  }
  const sdmx = await page.locator('[data-testid="sdmx-link"]').getAttribute('href')
  const sres = await page.request.get(PORTAL_URL + sdmx)
  assert.equal(sres.status(), 200, `SDMX link ${sdmx}`)
  if (phone) {
    await noPageScroll(page, 'dataset')
    const box = await page.locator('[data-testid="pivot-scroll"]').evaluate((el) => [el.scrollWidth, el.clientWidth])
    assert.ok(box[1] <= 390, 'the table box fits the phone')
  }

  // Documents: search, category, detail with an attachment.
  const docs = listOf(await api('/api/v1/documents'), 'documents')
  await page.goto(`${PORTAL_URL}/documents`, { waitUntil: 'networkidle' })
  await page.locator('[data-testid="documents"][data-loaded="true"]').waitFor()
  assert.equal(await page.locator('[data-testid="doc-list"] li[data-index-no]').count(), docs.length)
  if (docs.length) {
    const doc = docs[0]
    const word = doc.title.slice(2, 6)
    await page.locator('[data-testid="doc-search"] input, input[data-testid="doc-search"]').first().fill(word)
    const expected = listOf(await api(`/api/v1/documents?q=${encodeURIComponent(word)}`), 'documents')
    await page.waitForFunction(
      ([n, no]) => {
        const el = document.querySelector('[data-testid="documents"]')
        return el?.getAttribute('data-loaded') === 'true' && el.querySelectorAll('li[data-index-no]').length === n && !!el.querySelector(`li[data-index-no="${no}"]`)
      },
      [expected.length, doc.index_no],
    )
    await page.locator('[data-testid="doc-search"] input, input[data-testid="doc-search"]').first().fill('')
    if (doc.category) {
      await page.locator('[data-testid="doc-category"]').selectOption(doc.category)
      const inCat = docs.filter((d) => d.category === doc.category).length
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="doc-list"] li[data-index-no]').length === n, inCat)
    }
    await page.locator(`li[data-index-no="${doc.index_no}"] a`).first().click()
    await page.locator('[data-testid="document"][data-loaded="true"]').waitFor()
    assert.equal((await page.locator('[data-testid="doc-title"]').innerText()).trim(), doc.title)
    const full = await api(`/api/v1/documents/${encodeURIComponent(doc.index_no)}`)
    if (full.attachments?.length) {
      const a = page.locator(`[data-attachment="${full.attachments[0].name}"]`)
      const res = await page.request.get(PORTAL_URL + (await a.getAttribute('href')))
      assert.equal(res.status(), 200, 'the attachment downloads')
    }
    if (phone) await noPageScroll(page, 'document')
  }
}

test('the portal in Chinese and in English, and at phone size', { timeout: 240000 }, async () => {
  assert.ok(PORTAL_URL, 'PORTAL_URL is not set: start a portal with tools/portal_fixture.sh and run PORTAL_URL=... npm run e2e:portal')
  const ds = await pickDataset()
  await withBrowser(RESULTS_DIR, 'portal', async ({ browser, pages, errors }) => {
    const zh = await openPage(browser, pages, errors, { lang: 'zh', viewport: { width: 1366, height: 900 }, role: 'zh' })
    await walk(zh, 'zh', ds)
    // The language switch turns the page to English and is remembered without ?lang.
    await zh.goto(`${PORTAL_URL}/`, { waitUntil: 'networkidle' })
    await zh.locator('[data-testid="lang-switch"]').click()
    await zh.locator('[data-testid="lang-switch"][data-locale="en"]').waitFor()
    assert.match(zh.url(), /lang=en/)
    await zh.goto(`${PORTAL_URL}/calendar`, { waitUntil: 'networkidle' })
    assert.equal((await zh.locator('h1').innerText()).trim(), 'Release calendar', 'the language is remembered')

    const en = await openPage(browser, pages, errors, { lang: 'en', viewport: { width: 1366, height: 900 }, role: 'en' })
    await walk(en, 'en', ds)

    const phone = await openPage(browser, pages, errors, { lang: 'zh', viewport: { width: 390, height: 844 }, role: 'phone' })
    await walk(phone, 'zh', ds, { phone: true })
    assert.deepEqual(errors, [], 'no uncaught page errors')
  })
})
