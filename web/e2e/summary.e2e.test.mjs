// Browser end-to-end test of the summary tables (issue 4, "Done when": the summary table, chart and
// Excel export work in the browser) against a running statgov server with the demo database.
// Run: BASE_URL=http://127.0.0.1:8080 npm run e2e   (CHROMIUM overrides /usr/bin/chromium)
//
// The demo holds 13 months of accepted B204-1 history, so the period is the month before the current
// Beijing-time month, compared with the same month last year:
// (a) the city statistician opens /console/summary by county: the 9 counties of 株洲市 with values; the
//     total row's I01 equals the sum of the county rows (the page against itself) and the total of
//     GET /api/v1/summary with the same session (the page against the API); growth cells are numbers;
//     the chart is drawn;
// (b) by 门类: row C (制造业); its drawer lists its units, whose I01 adds up to the row;
//     the transposed table shows the same figure; the Excel link answers 200 with an xlsx type;
//     the outlier table loads;
// (c) the county statistician, by township, sees only its own county's townships.
// Prints how long the table took to appear. Read-only: changes no data, runs in any order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loginPage as sharedLogin, withBrowser } from './support.mjs'

const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '')
const PASSWORD = process.env.E2E_PASSWORD || 'Statgov@2026'
const LOGINS = { city: 'demo-shi', county: 'demo-quxian' }
const FORM = 'B204-1'
const IND = 'I01'
const TOLERANCE = 0.5
const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
/** The county-level divisions of 株洲市 (430200) in the directory of the demo (data/refdata). */
const ZHUZHOU_COUNTIES = ['430202', '430203', '430204', '430211', '430212', '430223', '430224', '430225', '430281']
const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results')

/** The month before the current Beijing-time month, as the server spells it: 2026M10 in 2026-11. */
function previousMonthBeijing(nowMs = Date.now()) {
  const d = new Date(nowMs + 8 * 3600 * 1000)
  let y = d.getUTCFullYear()
  let m = d.getUTCMonth() + 1 - 1
  if (m === 0) {
    y -= 1
    m = 12
  }
  return `${y}M${String(m).padStart(2, '0')}`
}

function loginPage(browser, role, pages, errors) {
  return sharedLogin(browser, { baseUrl: BASE_URL, login: LOGINS[role], password: PASSWORD, role, pages, errors })
}

async function getJson(page, urlPath) {
  const res = await page.request.get(`${BASE_URL}/api/v1${urlPath}`)
  assert.equal(res.status(), 200, `GET ${urlPath}: ${res.status()} ${await res.text().catch(() => '')}`)
  return res.json()
}

/** Waits for the summary table of `by` to be loaded; on failure reports the error the page shows. */
async function waitTable(page, by) {
  const sel = `[data-testid="summary-table"][data-loaded="true"][data-by="${by}"]`
  try {
    await page.locator(sel).waitFor({ timeout: 20000 })
  } catch (e) {
    const err = page.locator('[data-testid="summary-error"]').first()
    const shown = await err.innerText({ timeout: 1000 }).catch(() => '')
    const code = await err.getAttribute('data-code', { timeout: 1000 }).catch(() => '')
    throw new Error(`the summary table by ${by} did not load${shown ? `; the page shows the error ${code}: ${shown}` : ''}`, { cause: e })
  }
}

/** The keys of the table's member rows, in display order. */
function rowKeys(page) {
  return page.locator('[data-testid="summary-table"] tbody tr[data-key]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-key')))
}

/** data-value of one cell as a number (null when empty). */
async function cellValue(scope, ind, col) {
  const cell = scope.locator(`[data-ind="${ind}"][data-col="${col}"]`).first()
  const raw = await cell.getAttribute('data-value')
  if (raw === null || raw === '') return null
  const n = Number(raw)
  assert.ok(Number.isFinite(n), `data-value "${raw}" of ${ind}/${col} is a number`)
  return n
}

test('summary table by county and 门类, totals, drill-down, chart, Excel export, county scope', { timeout: 300000 }, async () => {
  assert.ok(
    BASE_URL,
    'BASE_URL is not set: start the statgov server with the demo database and run e.g. ' +
      'BASE_URL=http://127.0.0.1:8080 npm run e2e',
  )
  const period = process.env.E2E_SUMMARY_PERIOD || previousMonthBeijing()
  const qs = (by) => `form=${encodeURIComponent(FORM)}&period=${encodeURIComponent(period)}&by=${by}&states=submitted&compare=ly`
  await withBrowser(RESULTS_DIR, 'summary-e2e', async ({ browser, pages, errors }) => {
    // ---- (a) the city statistician, by county ----
    const city = await loginPage(browser, 'city', pages, errors)
    const navStart = Date.now()
    await city.goto(`${BASE_URL}/console/summary?${qs('county')}`)
    await waitTable(city, 'county')
    await city.locator('[data-testid="summary-table"] tbody tr[data-key]').first().waitFor()
    const tableMs = Date.now() - navStart
    const tablePerfMs = Math.round(await city.evaluate(() => performance.now()))
    console.log(`summary table appeared ${tableMs} ms after navigation started (performance.now() ${tablePerfMs} ms), ${FORM} ${period} by county`)

    assert.equal(await city.locator('[data-testid="pick-by"]').getAttribute('data-by'), 'county', 'the by picker shows county')
    assert.equal(await city.locator('[data-testid="pick-states"]').getAttribute('data-states'), 'submitted', 'the states picker shows submitted')
    const counties = await rowKeys(city)
    assert.deepEqual([...counties].sort(), ZHUZHOU_COUNTIES, `the table lists the 9 counties of 株洲市 (got ${counties.join(',')})`)

    let sum = 0
    for (const key of counties) {
      const row = city.locator(`[data-testid="summary-table"] tbody tr[data-key="${key}"]`)
      const v = await cellValue(row, IND, 'value')
      assert.ok(v !== null && v > 0, `county ${key} has an ${IND} value (got ${v})`)
      sum += v
      const g = await cellValue(row, IND, 'growth')
      assert.ok(g !== null && Number.isFinite(g), `county ${key} has a growth figure (demo history of last year)`)
      const gText = (await row.locator(`[data-ind="${IND}"][data-col="growth"]`).innerText()).trim()
      assert.match(gText, /^[+-]?\d+\.\d%$/, `growth of ${key} shows as a percent with one decimal (got "${gText}")`)
      assert.ok((await cellValue(row, IND, 'previous')) !== null, `county ${key} has a comparable previous value`)
      const share = await cellValue(row, IND, 'share')
      assert.ok(share !== null && share >= 0 && share <= 1, `share of ${key} is a fraction (got ${share})`)
      const rank = await cellValue(row, IND, 'rank')
      assert.ok(Number.isInteger(rank) && rank >= 1 && rank <= counties.length, `rank of ${key} is 1..${counties.length} (got ${rank})`)
    }
    const totalRow = city.locator('[data-testid="summary-total"]')
    const pageTotal = await cellValue(totalRow, IND, 'value')
    assert.ok(pageTotal !== null, 'the total row has a value')
    assert.ok(Math.abs(pageTotal - sum) <= TOLERANCE, `the total row's ${IND} ${pageTotal} equals the sum of the county rows ${sum}`)
    const api = await getJson(city, `/summary?${qs('county')}`)
    const apiTotal = api.total?.values?.[IND]
    assert.equal(typeof apiTotal, 'number', `GET /summary has total.values.${IND}`)
    assert.ok(Math.abs(pageTotal - apiTotal) <= TOLERANCE, `the total row's ${IND} ${pageTotal} equals GET /summary's ${apiTotal}`)
    console.log(`total ${IND}: page ${pageTotal}, sum of counties ${Math.round(sum * 10) / 10}, API ${apiTotal}`)

    // Sorting by a column orders the rows by that figure.
    await city.locator(`[data-testid="summary-table"] th[data-sort-ind="${IND}"][data-sort-col="value"]`).click()
    const sortedVals = await city
      .locator(`[data-testid="summary-table"] tbody tr[data-key] [data-ind="${IND}"][data-col="value"]`)
      .evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-value'))))
    assert.deepEqual(sortedVals, [...sortedVals].sort((a, b) => b - a), 'a click on the value header sorts the rows by it, largest first')

    // The chart is drawn (bars by county).
    const chart = city.locator('[data-testid="summary-chart"]')
    await chart.locator('canvas').first().waitFor({ timeout: 15000 })
    assert.equal(Number(await chart.getAttribute('data-points')), counties.length, 'the chart has one bar per county')

    // ---- (b) by 门类, drill-down, pivot, Excel export, outliers ----
    await city.locator('[data-testid="pick-by"] [data-option="section"]').click()
    await waitTable(city, 'section')
    const sectionRow = city.locator('[data-testid="summary-table"] tbody tr[data-key="C"]')
    await sectionRow.waitFor()
    assert.ok((await sectionRow.innerText()).includes('制造业'), 'row C is 制造业')
    const cValue = await cellValue(sectionRow, IND, 'value')
    const cUnits = Number(await sectionRow.locator('[data-col="units"]').getAttribute('data-value'))
    assert.ok(cValue !== null && cValue > 0 && cUnits > 0, `row C has units (${cUnits}) and an ${IND} value (${cValue})`)

    await sectionRow.locator('[data-col="name"]').click()
    const units = city.locator('[data-testid="summary-units"][data-key="C"][data-loaded="true"]')
    await units.waitFor({ timeout: 15000 })
    const unitRows = units.locator('tbody tr[data-unit]')
    const nUnits = await unitRows.count()
    assert.equal(nUnits, cUnits, `the drawer lists the ${cUnits} units of row C (got ${nUnits})`)
    const unitSum = await units
      .locator(`tbody tr[data-unit] [data-ind="${IND}"]`)
      .evaluateAll((tds) => tds.reduce((s, td) => s + (Number(td.getAttribute('data-value')) || 0), 0))
    assert.ok(Math.abs(unitSum - cValue) <= TOLERANCE, `the units of row C add up to its ${IND} (${unitSum} vs ${cValue})`)
    await city.keyboard.press('Escape')
    await units.waitFor({ state: 'hidden' })

    // Transposed: the same figure under the member's column.
    await city.locator('[data-testid="pivot-toggle"]').click()
    await city.locator('[data-testid="summary-table"][data-pivot="true"][data-loaded="true"]').waitFor()
    const pivotCell = city.locator(`[data-testid="summary-table"] td[data-key="C"][data-ind="${IND}"][data-col="value"]`)
    assert.equal(Number(await pivotCell.getAttribute('data-value')), cValue, 'the transposed table shows the same figure for C')
    await city.locator('[data-testid="pivot-toggle"]').click()
    await city.locator('[data-testid="summary-table"][data-pivot="false"]').waitFor()

    // Excel: the link carries the same query and answers an xlsx file with the session cookie.
    const href = await city.locator('[data-testid="summary-export"]').getAttribute('href')
    assert.ok(href && href.includes('/api/v1/summary.xlsx?'), `the export link points at /summary.xlsx (got ${href})`)
    const xq = new URL(href, BASE_URL).searchParams
    assert.deepEqual(
      { form: xq.get('form'), period: xq.get('period'), by: xq.get('by') },
      { form: FORM, period, by: 'section' },
      'the export link has the table query',
    )
    const xlsx = await city.request.get(new URL(href, BASE_URL).toString())
    assert.equal(xlsx.status(), 200, `GET ${href}: ${xlsx.status()}`)
    const ctype = xlsx.headers()['content-type'] || ''
    assert.ok(ctype.includes(XLSX_TYPE), `the export is an xlsx file (content type ${ctype})`)
    const body = await xlsx.body()
    assert.ok(body.length > 0 && body[0] === 0x50 && body[1] === 0x4b, 'the xlsx body is a zip (PK)')
    console.log(`Excel export: ${body.length} bytes, ${ctype}`)

    // Outliers of I01.
    await city.locator('[data-testid="tab-outliers"]').click()
    const outliers = city.locator('[data-testid="outlier-table"][data-loaded="true"]')
    await outliers.waitFor({ timeout: 15000 })
    const nOut = await outliers.locator('tbody tr[data-unit]').count()
    assert.ok(nOut > 0, 'the outlier table ranks the units')
    const outCount = city.locator('[data-testid="outlier-count"]')
    const ranked = Number(await outCount.getAttribute('data-count'))
    const flagged = Number(await outCount.getAttribute('data-flagged'))
    const flags = await outliers.locator('tbody tr[data-unit]').first().getAttribute('data-hb-outlier')
    assert.ok(flags === 'true' || flags === 'false', 'outlier rows carry their HB flag')
    console.log(`outliers of ${IND}: ${ranked} units ranked, ${flagged} flagged (HB or MAD), ${nOut} rows shown`)

    // ---- (c) the county statistician sees only its county ----
    const county = await loginPage(browser, 'county', pages, errors)
    const countyRegion = (await getJson(county, '/me')).user.region
    const countyCode = countyRegion.slice(0, 6)
    const t1 = Date.now()
    await county.goto(`${BASE_URL}/console/summary?${qs('township')}`)
    await waitTable(county, 'township')
    await county.locator('[data-testid="summary-table"] tbody tr[data-key]').first().waitFor()
    console.log(`county summary table by township appeared in ${Date.now() - t1} ms`)
    const towns = await rowKeys(county)
    assert.ok(towns.length > 0, 'the county sees its townships')
    for (const k of towns) assert.ok(k.startsWith(countyCode), `row ${k} lies inside the county ${countyCode}`)
    assert.ok(!towns.some((k) => ZHUZHOU_COUNTIES.includes(k) && k !== countyCode), 'no other county is listed')

    assert.deepEqual(errors, [], 'no uncaught errors in any page')
  })
})
