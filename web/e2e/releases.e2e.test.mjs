// Browser end-to-end test of 数据发布 on the console (docs/publication.md section 5) against a
// running statgov server with the demo database (and a --release-key, or the sign-off is refused).
// Run: BASE_URL=http://127.0.0.1:8080 npm run e2e   (CHROMIUM overrides /usr/bin/chromium)
//
// As the publisher demo-fabu: create a release of B204-1 for the month before the current
// Beijing-time month (the demo's accepted history) by county and by 门类, due tomorrow 09:30
// Beijing time; prepare it; the preview shows the public datasets with suppressed cells marked "…",
// and equals GET /preview; sign off with the password (a wrong one is refused first); the state is
// signed and the package downloads as a zip; the leader then reads it without any action, and a
// county statistician has no releases menu. Creates its own release (a fresh code each run).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loginPage, withBrowser } from './support.mjs'

const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '')
const PASSWORD = process.env.E2E_PASSWORD || 'Statgov@2026'
const LOGIN = 'demo-fabu'
const FORM = 'B204-1'
const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results')

/** "2026M10" for the month before the current Beijing-time month. */
function previousMonthBeijing(nowMs = Date.now()) {
  const d = new Date(nowMs + 8 * 3600 * 1000)
  let y = d.getUTCFullYear()
  let m = d.getUTCMonth()
  if (m === 0) {
    y -= 1
    m = 12
  }
  return `${y}M${String(m).padStart(2, '0')}`
}

/** Tomorrow 09:30 in Beijing as the datetime-local input wants it, and as UTC. */
function tomorrowBeijing(nowMs = Date.now()) {
  const d = new Date(nowMs + 8 * 3600 * 1000 + 24 * 3600 * 1000)
  const day = d.toISOString().slice(0, 10)
  return { local: `${day}T09:30`, utc: new Date(`${day}T01:30:00Z`).toISOString().replace('.000Z', 'Z') }
}

test('publisher creates, prepares, previews and signs off a release', { timeout: 180000 }, async () => {
  assert.ok(BASE_URL, 'BASE_URL is not set: start the statgov server with the demo database (and --release-key) and run BASE_URL=... npm run e2e')
  await withBrowser(RESULTS_DIR, 'releases', async ({ browser, pages, errors }) => {
    const page = await loginPage(browser, { baseUrl: BASE_URL, login: LOGIN, password: PASSWORD, role: 'publisher', pages, errors })
    // The publisher lands on the releases and has only the publication menu.
    await page.waitForURL((u) => u.pathname === '/console/releases')
    await page.locator('[data-testid="nav-releases"]').waitFor()
    await page.locator('[data-testid="release-table"][data-loaded="true"]').waitFor()

    // 1. Create.
    const code = `E2E-${Date.now().toString(36).toUpperCase()}`
    const period = process.env.E2E_RELEASE_PERIOD || previousMonthBeijing()
    const when = tomorrowBeijing()
    await page.locator('[data-testid="release-new"]').click()
    const dialog = page.locator('[data-testid="release-dialog"]')
    await dialog.locator('[data-testid="rel-code"]').fill(code)
    await dialog.locator('[data-testid="rel-title-zh"]').fill(`端到端测试发布 ${code}`)
    await dialog.locator('[data-testid="rel-title-en"]').fill(`End-to-end release ${code}`)
    await dialog.locator('[data-testid="rel-release-at"]').fill(when.local)
    await dialog.locator('[data-testid="rel-form"]').selectOption(FORM)
    await dialog.locator('[data-testid="rel-period"]').selectOption(period)
    // Table 1: by county, the first two indicators; table 2: by 门类, the first one.
    await dialog.locator('[data-table-ind^="0:"]').first().waitFor()
    const inds = dialog.locator('[data-table-ind^="0:"]')
    await inds.nth(0).check()
    await inds.nth(1).check()
    await dialog.locator('[data-testid="rel-add-table"]').click()
    await dialog.locator('[data-table-by="1"]').selectOption('section')
    await dialog.locator('[data-table-ind^="1:"]').first().check()
    await dialog.locator('[data-testid="rel-save"]').click()
    const row = page.locator(`tr[data-release="${code}"]`)
    try {
      await row.waitFor({ timeout: 15000 })
    } catch (e) {
      const shown = await page.locator('[data-testid="rel-form-error"]').innerText({ timeout: 1000 }).catch(() => '')
      throw new Error(`the release was not created${shown ? `: ${shown}` : ''}`, { cause: e })
    }
    assert.equal(await row.getAttribute('data-state'), 'planned')
    assert.equal(await row.locator('[data-release-at]').getAttribute('data-release-at'), when.utc, 'the minute is Beijing time, stored in UTC')
    assert.match(await row.locator('[data-release-at]').innerText(), new RegExp(when.local.replace('T', ' ')))

    // 2. Prepare: the preview opens with the public datasets.
    await row.locator('[data-action="prepare"]').click()
    await page.locator(`tr[data-release="${code}"][data-state="prepared"]`).waitFor({ timeout: 30000 })
    const preview = page.locator(`[data-testid="release-preview"][data-release="${code}"]`)
    await preview.waitFor()
    const shown = Number(await preview.getAttribute('data-datasets'))
    assert.ok(shown >= 2, `two datasets previewed (got ${shown})`)
    const api = await page.request.get(`${BASE_URL}/api/v1/releases/${code}/preview`)
    assert.equal(api.status(), 200)
    const body = await api.json()
    assert.equal(body.datasets.length, shown, 'the page previews what GET /preview gives')
    const suppressedApi = body.datasets.reduce((n, d) => n + d.observations.filter((o) => o.status === 'C').length, 0)
    const perDataset = await preview.locator('[data-dataset]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-suppressed'))))
    assert.equal(perDataset.reduce((a, b) => a + b, 0), suppressedApi, 'suppressed counts as the API says')
    assert.ok(suppressedApi > 0, 'disclosure control suppressed some cells of the demo data')
    const cells = preview.locator('td[data-status="C"]')
    assert.equal(await cells.count(), suppressedApi, "every suppressed cell is shown")
    assert.equal((await cells.first().innerText()).trim(), '…', 'a suppressed cell reads "…"')
    assert.equal(await cells.first().getAttribute('data-value'), '', 'and has no value')
    const valued = preview.locator('td[data-status=""]').first()
    assert.ok(Number.isFinite(Number(await valued.getAttribute('data-value'))), 'other cells carry numbers')

    // 3. Sign off: a wrong password is refused, the right one signs.
    await page.locator(`tr[data-release="${code}"] [data-action="signoff"]`).click()
    const signDialog = page.locator('[data-testid="signoff-dialog"]')
    await signDialog.locator('[data-testid="signoff-password"]').fill('wrong-password')
    await signDialog.locator('[data-testid="signoff-confirm"]').click()
    await signDialog.locator('[data-testid="signoff-error"]').waitFor()
    assert.equal(await page.locator(`tr[data-release="${code}"]`).getAttribute('data-state'), 'prepared')
    await signDialog.locator('[data-testid="signoff-password"]').fill(PASSWORD)
    await signDialog.locator('[data-testid="signoff-confirm"]').click()
    try {
      await page.locator(`tr[data-release="${code}"][data-state="signed"]`).waitFor({ timeout: 30000 })
    } catch (e) {
      const err = await signDialog.locator('[data-testid="signoff-error"]').innerText({ timeout: 1000 }).catch(() => '')
      throw new Error(`the release was not signed${err ? `: ${err}` : ''}`, { cause: e })
    }
    await page.locator('[data-testid="release-notice"]').waitFor()

    // 4. The package downloads as a zip.
    const link = page.locator(`tr[data-release="${code}"] [data-action="download"]`)
    const href = await link.getAttribute('href')
    assert.equal(href, `/api/v1/releases/${code}/package`)
    const pkg = await page.request.get(`${BASE_URL}${href}`)
    assert.equal(pkg.status(), 200)
    const bytes = await pkg.body()
    assert.equal(bytes.subarray(0, 2).toString('latin1'), 'PK', 'a zip file')

    // 5. The leader reads the releases but cannot act; a county statistician has no such menu.
    const leader = await loginPage(browser, { baseUrl: BASE_URL, login: 'demo-lingdao', password: PASSWORD, role: 'leader', pages, errors })
    await leader.locator('[data-testid="nav-releases"]').click()
    await leader.locator(`[data-testid="release-table"][data-loaded="true"] tr[data-release="${code}"][data-state="signed"]`).waitFor()
    await leader.locator('[data-testid="read-only"]').waitFor()
    assert.equal(await leader.locator('[data-testid="release-new"]').count(), 0, 'no create button for the leader')
    assert.equal(await leader.locator('[data-action="prepare"], [data-action="signoff"], [data-action="edit"]').count(), 0, 'no actions')
    const county = await loginPage(browser, { baseUrl: BASE_URL, login: 'demo-quxian', password: PASSWORD, role: 'county', pages, errors })
    assert.equal(await county.locator('[data-testid="nav-releases"]').count(), 0, 'no releases menu for a county')
    assert.deepEqual(errors, [], 'no uncaught page errors')
  })
})
