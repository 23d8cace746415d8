// Browser end-to-end test of monitoring, review and return (issue 3, "Done when") against a running
// statgov server with a fresh demo database.
// Run: BASE_URL=http://127.0.0.1:8080 npm run e2e   (CHROMIUM overrides /usr/bin/chromium)
//
// (a) the county statistician's dashboard shows only its county;
// (b) the enterprise submits the open B204-1 period and the county dashboard's count moves within 2 s,
//     without reload;
// (c) the township returns the submission with a reason; the enterprise sees the reason (notice and
//     banner), corrects a value and resubmits through the UI;
// (d) township, county and city approve in turn; the enterprise's form is then locked (accepted).
// Prints the dashboard's first paint and the live update time.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loginPage as sharedLogin, withBrowser } from './support.mjs'

const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '')
const PASSWORD = process.env.E2E_PASSWORD || 'Statgov@2026'
const LOGINS = { enterprise: 'demo-qiye', township: 'demo-xiangzhen', county: 'demo-quxian', city: 'demo-shi' }
const FORM = 'B204-1'
const LIVE_LIMIT_MS = 2000
const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results')

/** Rounds to the indicator's decimals so that sums of reference values stay exact. */
function round(x, decimals = 1) {
  return Number(x.toFixed(decimals))
}

function loginPage(browser, role, pages, errors) {
  return sharedLogin(browser, { baseUrl: BASE_URL, login: LOGINS[role], password: PASSWORD, role, pages, errors })
}

/** A JSON API call with the page's session (cookie) and its CSRF token. */
async function apiCall(page, method, urlPath, body, headers = {}) {
  const me = await page.request.get(`${BASE_URL}/api/v1/me`)
  assert.equal(me.status(), 200, `GET /me with the ${urlPath} caller's session`)
  const { csrf_token: csrf } = await me.json()
  const res = await page.request.fetch(`${BASE_URL}/api/v1${urlPath}`, {
    method,
    headers: { 'X-CSRF-Token': csrf, 'Content-Type': 'application/json', ...headers },
    data: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let json = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    json = null
  }
  return { status: res.status(), json, text }
}

async function getJson(page, urlPath) {
  const res = await page.request.get(`${BASE_URL}/api/v1${urlPath}`)
  assert.equal(res.status(), 200, `GET ${urlPath}: ${res.status()} ${await res.text().catch(() => '')}`)
  return res.json()
}

async function cellNumber(page, selector) {
  const text = (await page.locator(selector).first().innerText()).trim()
  assert.match(text, /^\d+$/, `${selector} holds a plain number, got "${text}"`)
  return Number(text)
}

/** Opens the submission from the review queue of the caller and waits for the detail in `state`. */
async function openFromQueue(page, unit, period, state) {
  await page.goto(`${BASE_URL}/console/review?form=${encodeURIComponent(FORM)}&period=${encodeURIComponent(period)}`)
  await page.locator('[data-testid="queue-table"][data-loaded="true"]').waitFor()
  const row = page.locator(`[data-testid="queue-table"] tr[data-unit="${unit}"]`)
  await row.waitFor({ timeout: 15000 })
  assert.equal(await row.getAttribute('data-state'), state, `the queue lists unit ${unit} as ${state}`)
  await row.locator('[data-testid="open-review"]').click()
  await page.waitForURL(new RegExp(`/console/review/${unit}/${FORM}/${period}$`))
  await page.locator('[data-testid="review-detail"][data-loaded="true"]').waitFor()
  await page.locator(`[data-testid="review-state"][data-state="${state}"]`).waitFor()
}

async function approveInUi(page, expectState) {
  const before = await page.locator('[data-testid="review-state"]').getAttribute('data-version')
  const btn = page.locator('[data-testid="review-approve"]')
  assert.ok(await btn.isEnabled(), 'approve is enabled at this level')
  await btn.click()
  try {
    await page.locator(`[data-testid="review-state"][data-state="${expectState}"]`).waitFor({ timeout: 15000 })
  } catch (e) {
    const err = await page.locator('[data-testid="review-error"]').first().innerText().catch(() => '(no error shown)')
    throw new Error(`approve did not reach ${expectState}: ${err}`, { cause: e })
  }
  assert.equal(await page.locator('[data-testid="review-error"]').count(), 0, 'no error after approving')
  return before
}

test('county sees only its county, live count, return and resubmit, three-level approval locks the data', { timeout: 300000 }, async () => {
  assert.ok(
    BASE_URL,
    'BASE_URL is not set: start the statgov server with a fresh demo database and run e.g. ' +
      'BASE_URL=http://127.0.0.1:8080 npm run e2e',
  )
  await withBrowser(RESULTS_DIR, 'review-e2e', async ({ browser, pages, errors }) => {
    // ---- the enterprise's open B204-1 period ----
    const ent = await loginPage(browser, 'enterprise', pages, errors)
    const town = await loginPage(browser, 'township', pages, errors)
    const tasks = (await getJson(ent, '/tasks')).items
    const SENT = ['submitted', 'reviewed', 'approved']
    const task = tasks.find((t) => t.form_code === FORM && ['not_started', 'draft', 'returned', ...SENT].includes(t.state))
    assert.ok(task, `the enterprise has an open ${FORM} task (needs a fresh demo database): ${JSON.stringify(tasks)}`)
    const unit = task.unit_id
    const period = task.period
    if (SENT.includes(task.state)) {
      // The report e2e (same database, run before this file) already sent it: the township hands it
      // back first, so that the enterprise's submit below is again a new "submitted" on the dashboard.
      const cur = await getJson(town, `/submissions/${unit}/${FORM}/${period}`)
      const back = await apiCall(town, 'POST', `/submissions/${unit}/${FORM}/${period}/review`, {
        action: 'return',
        reason: 'e2e 准备：退回以便重新上报 / e2e setup: returned for a fresh submit',
        version: cur.version,
      })
      assert.equal(back.status, 200, `setup: the township returns the already sent submission (${back.status}: ${back.text})`)
      assert.equal(back.json.state, 'returned')
      console.log(`setup: ${FORM} ${period} of unit ${unit} was ${task.state} (report e2e ran first); returned it for a fresh submit`)
    }

    // ---- (a) county dashboard: only the county ----
    const county = await loginPage(browser, 'county', pages, errors)
    const countyUser = (await getJson(county, '/me')).user
    const countyCode = countyUser.region
    const countyPrefix = countyCode.slice(0, 6)
    const unitInfo = await getJson(county, `/units/${unit}`)
    const township = unitInfo.region
    assert.ok(township.startsWith(countyPrefix), `the enterprise (${township}) lies in the county ${countyCode}`)

    await county.goto(`${BASE_URL}/console/monitor?form=${encodeURIComponent(FORM)}&period=${encodeURIComponent(period)}`)
    const totalSel = '[data-testid="progress-total"] [data-col="submitted"]'
    try {
      await county.waitForFunction(
        (sel) => /^\d+$/.test((document.querySelector(sel)?.textContent ?? '').trim()),
        totalSel,
        { timeout: 15000, polling: 20 },
      )
    } catch (e) {
      const shown = await county.locator('[data-testid="monitor-error"]').first().innerText({ timeout: 1000 }).catch(() => '')
      const code = await county.locator('[data-testid="monitor-error"]').first().getAttribute('data-code', { timeout: 1000 }).catch(() => '')
      throw new Error(`the county dashboard showed no progress figures${shown ? `; it shows the error ${code}: ${shown}` : ''}`, { cause: e })
    }
    const firstPaintMs = await county.evaluate(() => performance.now())
    console.log(`dashboard first paint (navigation start -> progress table with numbers): ${Math.round(firstPaintMs)} ms`)

    const table = county.locator('[data-testid="progress-table"]')
    assert.equal(await table.getAttribute('data-parent'), countyCode, 'the dashboard table is rooted at the county')
    const rootCrumb = county.locator('[data-testid="breadcrumb"] [data-crumb]').first()
    assert.equal(await rootCrumb.getAttribute('data-crumb'), countyCode, 'the breadcrumb starts at the county')
    const regions = await county.locator('[data-testid="progress-table"] tbody tr[data-region]').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-region')))
    assert.ok(regions.length > 0, 'the county dashboard lists its townships')
    for (const r of regions) assert.ok(r.startsWith(countyPrefix) && r !== countyCode, `row ${r} lies inside the county ${countyCode}`)
    assert.ok(regions.includes(township), `the enterprise's township ${township} is a row`)
    // The server refuses or clamps a region outside the county.
    const cityCode = `${countyCode.slice(0, 4)}00000000`
    const outside = await county.request.get(`${BASE_URL}/api/v1/monitor/progress?form=${FORM}&period=${period}&region=${cityCode}&by=region`)
    if (outside.status() === 200) {
      const p = await outside.json()
      assert.ok(p.region.code.startsWith(countyPrefix), `a county never gets the city's figures (got ${p.region.code})`)
      for (const r of p.rows) assert.ok(r.key.startsWith(countyPrefix), `no row outside the county (${r.key})`)
    } else {
      assert.ok(outside.status() >= 400 && outside.status() < 500, `out-of-scope progress is a 4xx (got ${outside.status()})`)
    }

    // ---- (b) the enterprise submits; the county's numbers move without reload ----
    await county.locator('[data-testid="live-indicator"][data-connected="true"]').waitFor({ timeout: 15000 })
    const rowSel = `[data-testid="progress-table"] tr[data-region="${township}"] [data-col="submitted"]`
    const townBefore = await cellNumber(county, rowSel)
    const totalBefore = await cellNumber(county, totalSel)
    await county.evaluate(() => {
      window.__e2eNoReload = true
    })

    const sub = await getJson(ent, `/submissions/${unit}/${FORM}/${period}`)
    const prevV = sub.prev?.values ?? {}
    const lyV = sub.ly?.values ?? {}
    assert.ok(typeof lyV.I01 === 'number' && lyV.I01 > 0, `the demo data has last year's I01, got ${JSON.stringify(sub.ly)}`)
    const month = Number(/M(\d+)$/.exec(period)?.[1] ?? 0)
    const ytd = (c, cur) => {
      const p = month > 1 ? prevV[`${c}_YTD`] : undefined
      return round((typeof p === 'number' ? p : 0) + cur)
    }
    const i01 = round(lyV.I01 * 1.1)
    const i03 = round(0.9 * i01)
    const i04 = 0
    const i05 = round(typeof lyV.I05 === 'number' ? lyV.I05 : 100)
    const values = {
      I01: i01,
      I01_YTD: ytd('I01', i01),
      I03: i03,
      I03_YTD: ytd('I03', i03),
      I04: i04,
      I04_YTD: ytd('I04', i04),
      I05: i05,
      I05_YTD: ytd('I05', i05),
    }
    const submitStart = Date.now()
    const submitted = await apiCall(ent, 'POST', `/submissions/${unit}/${FORM}/${period}/submit`, { values, explanations: {} }, {
      'Idempotency-Key': `e2e-review-${Date.now()}`,
    })
    const submitAnswered = Date.now()
    assert.equal(submitted.status, 200, `the enterprise's submit answered ${submitted.status}: ${submitted.text}`)
    assert.equal(submitted.json.state, 'submitted')
    await county.waitForFunction(
      ({ rowSel, totalSel, townBefore, totalBefore }) => {
        const n = (s) => Number((document.querySelector(s)?.textContent ?? '').trim())
        return n(rowSel) >= townBefore + 1 && n(totalSel) >= totalBefore + 1
      },
      { rowSel, totalSel, townBefore, totalBefore },
      { timeout: 10000, polling: 20 },
    )
    const updateMs = Date.now() - submitAnswered
    console.log(
      `dashboard live update (submit answered -> county count +1): ${updateMs} ms ` +
        `(from sending the submit: ${Date.now() - submitStart} ms)`,
    )
    assert.equal(await cellNumber(county, rowSel), townBefore + 1, "the township row's submitted count went up by one")
    assert.equal(await cellNumber(county, totalSel), totalBefore + 1, 'the total submitted count went up by one')
    assert.ok(await county.evaluate(() => window.__e2eNoReload === true), 'the dashboard was not reloaded')
    assert.ok(updateMs <= LIVE_LIMIT_MS, `the county count changed within ${LIVE_LIMIT_MS} ms (took ${updateMs} ms)`)

    // Drill down into the township and back up through the breadcrumb.
    await county.locator(`[data-testid="progress-table"] tr[data-region="${township}"]`).click()
    await county.locator(`[data-testid="progress-table"][data-parent="${township}"]`).waitFor()
    await county.locator(`[data-testid="breadcrumb"] [data-crumb="${township}"][data-current="true"]`).waitFor()
    await county.locator(`[data-testid="breadcrumb"] a[data-crumb="${countyCode}"]`).click()
    await county.locator(`[data-testid="progress-table"][data-parent="${countyCode}"]`).waitFor()

    // ---- (c) the township returns it with a reason ----
    await openFromQueue(town, unit, period, 'submitted')
    await town.locator('[data-testid="review-return"]').click()
    const reasonBox = town.locator('textarea[data-testid="return-reason"]')
    await reasonBox.waitFor()
    // An empty reason is refused by the client (the server refuses it too).
    await town.locator('[data-testid="return-confirm"]').click()
    await town.locator('[data-testid="return-reason-required"]').waitFor()
    assert.equal(await town.locator('[data-testid="review-state"]').getAttribute('data-state'), 'submitted', 'nothing changed')
    const reason = `用电量与产值不匹配，请核实本月用电量 / check power use (e2e ${Date.now() % 100000})`
    await reasonBox.fill(reason)
    await town.locator('[data-testid="return-confirm"]').click()
    await town.locator('[data-testid="review-state"][data-state="returned"]').waitFor()
    await town.locator(`[data-testid="events"] tr[data-action="return"] [data-reason]`).last().waitFor()
    assert.equal(
      await town.locator('[data-testid="events"] tr[data-action="return"] [data-reason]').last().getAttribute('data-reason'),
      reason,
      'the return event carries the reason',
    )

    // The enterprise sees the reason on its task list and on the form, corrects and resubmits.
    await ent.goto(`${BASE_URL}/tasks`)
    const notice = ent.locator(`[data-testid="notice"][data-form="${FORM}"][data-period="${period}"]`).filter({ hasText: reason })
    await notice.first().waitFor({ timeout: 15000 })
    const openTask = ent.locator(`button[data-testid="open-task"][data-form="${FORM}"][data-period="${period}"]`)
    await openTask.waitFor()
    assert.equal(await openTask.getAttribute('data-state'), 'returned', 'the task shows the state returned')
    await openTask.click()
    await ent.waitForURL(new RegExp(`/report/${unit}/${FORM}/${period}$`))
    await ent.locator('[data-testid="form-entry"][data-loaded="true"]').waitFor()
    const banner = ent.locator('[data-testid="return-reason-banner"]')
    await banner.waitFor()
    assert.ok((await banner.innerText()).includes(reason), 'the banner shows the return reason')
    assert.equal(await ent.locator('input[data-indicator="I05"]').getAttribute('readonly'), null, 'the returned form is editable')
    const i05New = round(i05 * 1.1 + 1)
    await ent.locator('input[data-indicator="I05"]').fill(String(i05New))
    await ent.locator('input[data-indicator="I05_YTD"]').fill(String(ytd('I05', i05New)))
    await ent.waitForFunction(
      () => {
        const s = document.querySelector('[data-testid="rule-summary"]')
        return s?.getAttribute('data-validation-state') === 'idle' && s.getAttribute('data-errors') === '0'
      },
      undefined,
      { timeout: 15000, polling: 100 },
    )
    const boxes = ent.locator('textarea[data-explanation]')
    for (let i = 0; i < (await boxes.count()); i++) await boxes.nth(i).fill('已核实，用电量已更正 / power use corrected')
    await ent.waitForFunction(() => !document.querySelector('[data-testid="submit-button"]')?.hasAttribute('disabled'))
    await ent.locator('[data-testid="submit-button"]').click()
    const success = ent.locator('[data-testid="submit-success"]')
    await success.waitFor()
    assert.equal(await success.getAttribute('data-state'), 'submitted', 'resubmitted')
    const resubmittedVersion = Number(await success.getAttribute('data-version'))

    // ---- (d) township, county, city approve in turn ----
    await openFromQueue(town, unit, period, 'submitted')
    assert.equal(Number(await town.locator('[data-testid="review-state"]').getAttribute('data-version')), resubmittedVersion)
    const changed = await town.locator(`[data-testid="version-list"] tr[data-version="${resubmittedVersion}"]`).getAttribute('data-changed')
    assert.ok((changed ?? '').split(',').includes('I05'), `the version history marks I05 as changed (got "${changed}")`)
    await approveInUi(town, 'reviewed')

    await openFromQueue(county, unit, period, 'reviewed')
    await approveInUi(county, 'approved')

    const city = await loginPage(browser, 'city', pages, errors)
    await openFromQueue(city, unit, period, 'approved')
    await approveInUi(city, 'accepted')

    // The enterprise's form is locked.
    await ent.goto(`${BASE_URL}/report/${unit}/${FORM}/${period}`)
    await ent.locator('[data-testid="form-entry"][data-loaded="true"]').waitFor()
    await ent.locator('[data-testid="read-only"]').waitFor()
    assert.equal(await ent.locator('[data-testid="submission-state"]').getAttribute('data-state-tag'), 'accepted')
    assert.equal(await ent.locator('input[data-indicator="I01"]').getAttribute('readonly'), '', 'the grid is read-only')
    assert.equal(await ent.locator('[data-testid="submit-button"]').count(), 0, 'no submit button on a locked form')
    const locked = await apiCall(ent, 'PUT', `/submissions/${unit}/${FORM}/${period}/draft`, { values })
    assert.ok(locked.status >= 400 && locked.status < 500, `the server refuses a draft on the accepted submission (got ${locked.status})`)
    const final = await getJson(ent, `/submissions/${unit}/${FORM}/${period}`)
    assert.equal(final.state, 'accepted')
    const actions = (final.events ?? []).map((e) => e.action)
    for (const a of ['submit', 'return', 'review', 'approve', 'accept']) assert.ok(actions.includes(a), `event ${a} recorded: ${actions}`)

    console.log(`summary: first paint ${Math.round(firstPaintMs)} ms, live update ${updateMs} ms, county ${countyCode}, township ${township}, unit ${unit}, period ${period}`)
    assert.deepEqual(errors, [], 'no uncaught errors in any page')
  })
})
