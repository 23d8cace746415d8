// Browser end-to-end test of 政务公开 on the console (docs/publication.md section 5) against a
// running statgov server with the demo database.
// Run: BASE_URL=http://127.0.0.1:8080 npm run e2e   (CHROMIUM overrides /usr/bin/chromium)
//
// As the publisher demo-fabu: the catalogue lists the demo's documents; a document with a bad index
// number is refused with the server's code shown in the dialog; a good one with an attachment is
// saved, listed as waiting for the next package, found by search, and its attachment is stored
// whole; an edit changes the title. The leader reads the same document in
// a drawer without any action. Creates its own document (a fresh index number each run).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loginPage, withBrowser } from './support.mjs'

const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '')
const PASSWORD = process.env.E2E_PASSWORD || 'Statgov@2026'
const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'test-results')

test('publisher keeps the 政务公开 catalogue; the leader reads it', { timeout: 180000 }, async () => {
  assert.ok(BASE_URL, 'BASE_URL is not set: start the statgov server with the demo database and run BASE_URL=... npm run e2e')
  await withBrowser(RESULTS_DIR, 'documents', async ({ browser, pages, errors }) => {
    const page = await loginPage(browser, { baseUrl: BASE_URL, login: 'demo-fabu', password: PASSWORD, role: 'publisher', pages, errors })
    await page.locator('[data-testid="nav-documents"]').click()
    await page.waitForURL((u) => u.pathname === '/console/documents')
    const table = page.locator('[data-testid="doc-table"][data-loaded="true"]')
    await table.waitFor()
    const before = Number(await table.getAttribute('data-count'))
    assert.ok(before >= 3, `the demo's documents are listed (got ${before})`)

    // 1. A bad index number: the server's code is shown in the dialog, nothing is saved.
    await page.locator('[data-testid="doc-new"]').click()
    const dialog = page.locator('[data-testid="doc-dialog"]')
    await dialog.locator('[data-testid="doc-index-no"]').fill('../etc/passwd')
    await dialog.locator('[data-testid="doc-title"]').fill('不应保存的文件')
    await dialog.locator('[data-testid="doc-publisher"]').fill('株洲市统计局')
    await dialog.locator('[data-testid="doc-body"]').fill('正文')
    await dialog.locator('[data-testid="doc-save"]').click()
    const formError = dialog.locator('[data-testid="doc-form-error"]')
    await formError.waitFor()
    assert.equal(await formError.getAttribute('data-code'), 'BAD_INDEX_NO')

    // 2. A good one with an attachment.
    const serial = String(Date.now() % 1000000).padStart(6, '0')
    const indexNo = `430200-2099-${serial}`
    const title = `端到端测试通知 ${serial}`
    const attachment = Buffer.from(`附件内容 ${serial}\n`, 'utf8')
    await dialog.locator('[data-testid="doc-index-no"]').fill(indexNo)
    await dialog.locator('[data-testid="doc-title"]').fill(title)
    await dialog.locator('[data-testid="doc-files"]').setInputFiles({ name: 'notice.txt', mimeType: 'text/plain', buffer: attachment })
    await dialog.locator('[data-testid="doc-save"]').click()
    await page.locator('[data-testid="doc-notice"]').waitFor()
    const row = page.locator(`tr[data-index-no="${indexNo}"]`)
    await row.waitFor()
    assert.match(await row.innerText(), new RegExp(title))
    assert.equal(Number(await page.locator('[data-testid="doc-table"]').getAttribute('data-count')), before + 1)
    assert.equal(await row.locator('.el-tag--warning').count(), 1, 'waits for the next package')
    const api = await page.request.get(`${BASE_URL}/api/v1/documents/${indexNo}`)
    assert.equal(api.status(), 200)
    const doc = await api.json()
    assert.equal(doc.title, title)
    assert.equal(doc.attachments.length, 1)
    assert.equal(doc.attachments[0].name, 'notice.txt')
    assert.equal(doc.attachments[0].size, attachment.length, 'the attachment is stored whole')

    // 3. Search finds it by a word of its title, and only what matches.
    await page.locator('[data-testid="doc-search"]').fill(serial)
    await page.locator('[data-testid="doc-search-go"]').click()
    await page.locator('[data-testid="doc-table"][data-loaded="true"][data-count="1"]').waitFor()
    await row.waitFor()

    // 4. Edit the title.
    await row.click()
    await dialog.locator('[data-testid="doc-title"]').fill(`${title}（修订）`)
    await dialog.locator('[data-testid="doc-save"]').click()
    await page.locator(`tr[data-index-no="${indexNo}"]:has-text("（修订）")`).waitFor()

    // 5. The leader reads it, without any action.
    const leader = await loginPage(browser, { baseUrl: BASE_URL, login: 'demo-lingdao', password: PASSWORD, role: 'leader', pages, errors })
    await leader.locator('[data-testid="nav-documents"]').click()
    await leader.locator('[data-testid="doc-table"][data-loaded="true"]').waitFor()
    await leader.locator('[data-testid="read-only"]').waitFor()
    assert.equal(await leader.locator('[data-testid="doc-new"]').count(), 0, 'no create button for the leader')
    await leader.locator(`tr[data-index-no="${indexNo}"]`).click()
    await leader.locator('.el-drawer:has-text("（修订）")').waitFor()
    assert.equal(await leader.locator('[data-testid="doc-dialog"]:visible').count(), 0, 'no edit dialog')
    assert.deepEqual(errors, [], 'no uncaught page errors')
  })
})
