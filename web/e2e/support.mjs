// Shared by the browser tests: how Chromium is started here (Debian's chromium, headless, no
// background networking: this machine's network is closed) and the login through the login page.
import fs from 'node:fs'
import path from 'node:path'
import { chromium } from 'playwright-core'

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
]

export function launchBrowser() {
  return chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: CHROMIUM_ARGS })
}

/**
 * A page in its own browser context (Chinese, desktop size, `contextOptions` on top), recorded in
 * `pages` for the failure screenshots, its uncaught errors pushed to `errors`.
 */
export async function openPage(browser, { role, pages, errors, contextOptions = {} }) {
  const context = await browser.newContext({ locale: 'zh-CN', viewport: { width: 1500, height: 1000 }, ...contextOptions })
  const page = await context.newPage()
  page.setDefaultTimeout(15000)
  page.on('pageerror', (e) => errors.push(`${role}: ${e}`))
  pages.push({ role, page, context })
  return page
}

/** Opens a page in its own browser context and logs in through the login page. */
export async function loginPage(browser, { baseUrl, login, password, role, pages, errors }) {
  const page = await openPage(browser, { role, pages, errors })
  await page.goto(`${baseUrl}/login`, { waitUntil: 'networkidle' })
  await page.locator('input[name="login"]').fill(login)
  await page.locator('input[name="password"]').fill(password)
  await page.locator('[data-testid="login-submit"]').click()
  await page.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 15000 })
  await page.locator('[data-testid="current-user"]').waitFor()
  return page
}

/** On failure: a full-page screenshot of every open page into `dir`, named after the test. */
export async function saveFailureShots(pages, dir, prefix) {
  fs.mkdirSync(dir, { recursive: true })
  for (const { role, page } of pages) {
    const shot = path.join(dir, `${prefix}-failure-${role}-${Date.now()}.png`)
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {})
    console.error(`screenshot (${role}): ${shot}  url: ${page.url()}`)
  }
}

export async function closeAll(pages, browser) {
  for (const { context } of pages) await context.close().catch(() => {})
  await browser.close().catch(() => {})
}

/**
 * Runs a browser test body with a fresh Chromium; the body opens pages with loginPage (or pushes
 * {role, page, context} to `pages` itself) and may push uncaught page errors to `errors`. On failure
 * every open page is photographed into `dir`; the browser is always closed.
 */
export async function withBrowser(dir, prefix, body) {
  const browser = await launchBrowser()
  const pages = []
  const errors = []
  try {
    await body({ browser, pages, errors })
  } catch (e) {
    await saveFailureShots(pages, dir, prefix)
    throw e
  } finally {
    await closeAll(pages, browser)
  }
}
