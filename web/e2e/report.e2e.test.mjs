// Browser end-to-end test of the enterprise reporting flow against a running statgov server.
// Run: BASE_URL=http://127.0.0.1:8080 npm run e2e   (CHROMIUM overrides /usr/bin/chromium)
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS } from './support.mjs'

const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '')
const LOGIN = process.env.E2E_LOGIN || 'demo-qiye'
const PASSWORD = process.env.E2E_PASSWORD || 'Statgov@2026'
const FORM = 'B204-1'
const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results')

/** Rounds to the indicator's decimals so that sums of reference values stay exact. */
function round(x, decimals) {
  return Number(x.toFixed(decimals))
}

async function fillField(page, code, value) {
  const input = page.locator(`input[data-indicator="${code}"]`)
  await input.fill(String(value))
  assert.equal(await input.inputValue(), String(value), `input ${code} holds what was typed`)
}

/**
 * Waits for `predicate` (a function run in the page, which must itself check that
 * [data-testid=rule-summary] is data-validation-state="idle"); on timeout the error shows the summary.
 */
async function waitForValidation(page, predicate, what) {
  try {
    await page.waitForFunction(predicate, undefined, { timeout: 15000, polling: 100 })
  } catch (e) {
    const summary = await page.locator('[data-testid="rule-summary"]').innerText().catch(() => '(no summary)')
    throw new Error(`timed out waiting for: ${what}\nrule summary now:\n${summary}`, { cause: e })
  }
}

test('enterprise fills B204-1, meets a hard and a soft edit, submits and sees the version', { timeout: 180000 }, async () => {
  assert.ok(
    BASE_URL,
    'BASE_URL is not set: start the statgov server with the demo database and run e.g. ' +
      'BASE_URL=http://127.0.0.1:8080 npm run e2e',
  )
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
  })
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1400, height: 1000 } })
  const page = await context.newPage()
  page.setDefaultTimeout(15000)
  const consoleErrors = []
  page.on('pageerror', (e) => consoleErrors.push(String(e)))
  try {
    // 1. Log in.
    await page.goto(`${BASE_URL}/login`, { waitUntil: 'networkidle' })
    await page.locator('input[name="login"]').fill(LOGIN)
    await page.locator('input[name="password"]').fill(PASSWORD)
    await page.locator('[data-testid="login-submit"]').click()
    await page.waitForURL(/\/tasks$/, { timeout: 15000 })
    await page.locator('[data-testid="current-user"]').waitFor()

    // 2. The task list: the open period of B204-1.
    await page.locator('[data-testid="task-table"][data-loaded="true"]').waitFor()
    const openTask = page
      .locator(`button[data-testid="open-task"][data-form="${FORM}"]`)
      .and(page.locator('[data-state="not_started"], [data-state="draft"], [data-state="returned"]'))
      .first()
    await openTask.waitFor({ timeout: 15000 })
    const unit = await openTask.getAttribute('data-unit')
    const period = await openTask.getAttribute('data-period')
    assert.ok(unit && period, 'the open B204-1 task carries its unit and period')
    const deadlineText = await page.locator('[data-deadline]').first().innerText()
    assert.match(deadlineText, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/, 'deadline is formatted YYYY-MM-DD HH:mm')

    // 3. Open the form.
    await openTask.click()
    await page.waitForURL(new RegExp(`/report/${unit}/${FORM}/${period}$`))
    await page.locator('[data-testid="form-entry"][data-loaded="true"]').waitFor()
    await page.locator('input[data-indicator="I01"]').waitFor()

    // Reference values, with the page's session.
    const subRes = await page.request.get(`${BASE_URL}/api/v1/submissions/${unit}/${FORM}/${period}`)
    assert.equal(subRes.status(), 200, 'GET submission with the browser session')
    const sub = await subRes.json()
    const prevV = sub.prev?.values ?? {}
    const lyV = sub.ly?.values ?? {}
    assert.ok(typeof lyV.I01 === 'number' && lyV.I01 > 0, `the demo data has last year's I01 (ly.values.I01), got ${JSON.stringify(sub.ly)}`)
    const month = Number(/M(\d+)$/.exec(period)?.[1] ?? 0)

    // The page shows the same "上月止累计" hints.
    for (const c of ['I01', 'I03', 'I04', 'I05']) {
      const p = prevV[`${c}_YTD`]
      if (typeof p === 'number') {
        const hint = page.locator(`[data-prev-ytd="${c}_YTD"]`)
        await hint.waitFor()
        assert.equal(Number(await hint.getAttribute('data-value')), p, `page shows prev YTD of ${c}`)
      }
    }

    const decimals = {}
    for (const c of ['I01', 'I03', 'I04', 'I05']) {
      const d = await page.locator(`input[data-indicator="${c}"]`).getAttribute('data-decimals')
      decimals[c] = d === null ? 1 : Number(d)
    }
    const ytd = (c, cur) => {
      const p = month > 1 ? prevV[`${c}_YTD`] : undefined
      return round((typeof p === 'number' ? p : 0) + cur, Math.max(decimals[c], 1))
    }
    // I01 more than 50 % above last year's, sales and exports in last year's proportions.
    const i01 = round(Math.ceil(lyV.I01 * 1.6) + 1, decimals.I01)
    const salesRatio = typeof lyV.I03 === 'number' && lyV.I01 > 0 ? Math.min(lyV.I03 / lyV.I01, 1) : 0.95
    const i03 = round(Math.floor(i01 * salesRatio), decimals.I03)
    const exportRatio = typeof lyV.I04 === 'number' && lyV.I03 > 0 ? Math.min(lyV.I04 / lyV.I03, 0.9) : 0.1
    const i04ok = round(Math.floor(i03 * exportRatio), decimals.I04)
    const i04bad = round(i03 + 100, decimals.I04)
    const i05 = round(typeof lyV.I05 === 'number' ? lyV.I05 : typeof prevV.I05 === 'number' ? prevV.I05 : 100, decimals.I05)

    // 4. Break the hard edit: exports above sales.
    await fillField(page, 'I01', i01)
    await fillField(page, 'I01_YTD', ytd('I01', i01))
    await fillField(page, 'I03', i03)
    await fillField(page, 'I03_YTD', ytd('I03', i03))
    await fillField(page, 'I05', i05)
    await fillField(page, 'I05_YTD', ytd('I05', i05))
    await fillField(page, 'I04', i04bad)
    await fillField(page, 'I04_YTD', ytd('I04', i04bad))
    await waitForValidation(
      page,
      () =>
        document.querySelector('[data-testid="rule-summary"]')?.getAttribute('data-validation-state') === 'idle' &&
        !!document.querySelector('[data-field="I04"] [data-rule-message][data-rule="export_le_sales"]'),
      'export_le_sales beside I04',
    )
    const exportMsg = page.locator('[data-field="I04"] [data-rule-message][data-rule="export_le_sales"]')
    assert.ok(await exportMsg.isVisible(), 'the export_le_sales message is visible beside I04')
    assert.equal(await exportMsg.getAttribute('data-severity'), 'error')
    assert.ok((await exportMsg.innerText()).trim().length > 0, 'the message has text')
    assert.ok(await page.locator('[data-summary-rule="export_le_sales"]').isVisible(), 'summary lists export_le_sales')
    assert.ok(await page.locator('[data-testid="submit-button"]').isDisabled(), 'submit is disabled while an error exists')

    // 5. Fix I04; the soft edit on I01 remains.
    await fillField(page, 'I04', i04ok)
    await fillField(page, 'I04_YTD', ytd('I04', i04ok))
    await waitForValidation(
      page,
      () =>
        document.querySelector('[data-testid="rule-summary"]')?.getAttribute('data-validation-state') === 'idle' &&
        !document.querySelector('[data-rule="export_le_sales"]') &&
        !!document.querySelector('[data-field="I01"] [data-rule-message][data-rule="yoy_output_01"]'),
      'export_le_sales gone and yoy_output_01 beside I01',
    )
    const errorRules = await page
      .locator('[data-summary-rule].sev-error')
      .evaluateAll((els) => els.map((e) => e.getAttribute('data-summary-rule')))
    assert.deepEqual(errorRules, [], 'no error-severity results remain')
    const yoyMsg = page.locator('[data-field="I01"] [data-rule-message][data-rule="yoy_output_01"]')
    assert.equal(await yoyMsg.getAttribute('data-severity'), 'warning')
    assert.ok(await page.locator('[data-testid="submit-button"]').isDisabled(), 'submit is disabled while a warning lacks an explanation')

    // 6. Explain every warning (yoy_output_01 at least) and submit.
    const explanationBoxes = page.locator('textarea[data-explanation]')
    assert.ok((await page.locator('textarea[data-explanation="yoy_output_01"]').count()) === 1, 'an explanation box for yoy_output_01')
    for (let i = 0; i < (await explanationBoxes.count()); i++) {
      await explanationBoxes.nth(i).fill('新生产线投产，订单大幅增加 / new production line started')
    }
    const submitButton = page.locator('[data-testid="submit-button"]')
    await page.waitForFunction(() => !document.querySelector('[data-testid="submit-button"]')?.hasAttribute('disabled'))
    const submitResponse = page.waitForResponse(
      (r) => r.url().endsWith(`/submissions/${unit}/${FORM}/${period}/submit`) && r.request().method() === 'POST',
    )
    await submitButton.click()
    const resp = await submitResponse
    const req = resp.request()
    const headers = await req.allHeaders()
    assert.ok(headers['x-csrf-token'], 'submit carries X-CSRF-Token')
    assert.ok(headers['idempotency-key'], 'submit carries Idempotency-Key')
    assert.deepEqual(Object.keys(JSON.parse(req.postData() || '{}')).sort(), ['explanations', 'values'])
    assert.equal(resp.status(), 200, `submit answered ${resp.status()}: ${await resp.text().catch(() => '')}`)
    const success = page.locator('[data-testid="submit-success"]')
    await success.waitFor()
    const version = await success.getAttribute('data-version')
    assert.ok(Number(version) >= 1, `a version number is shown (got ${version})`)
    assert.equal(await success.getAttribute('data-state'), 'submitted')
    assert.match(await success.innerText(), new RegExp(String(version)))
    assert.equal(await page.locator('input[data-indicator="I01"]').getAttribute('readonly'), '', 'the grid is read-only after submitting')

    // 7. Version history shows the new version.
    await page.locator('[data-testid="history-link"]').click()
    await page.waitForURL(new RegExp(`/report/${unit}/${FORM}/${period}/history$`))
    await page.locator(`[data-testid="version-table"] [data-version="${version}"]`).waitFor()
    assert.deepEqual(consoleErrors, [], 'no uncaught errors in the page')
  } catch (e) {
    fs.mkdirSync(RESULTS_DIR, { recursive: true })
    const shot = path.join(RESULTS_DIR, `report-e2e-failure-${Date.now()}.png`)
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {})
    console.error(`screenshot: ${shot}\nurl: ${page.url()}`)
    throw e
  } finally {
    await context.close().catch(() => {})
    await browser.close().catch(() => {})
  }
})
