// Staff login by client certificate in the browser (issue #7, docs/tls-ca.md): a CA made with
// `statgov ca`, a `statgov serve` of its own on HTTPS with `--staff-auth cert`, and Chromium
// presenting (or not) the staff member's certificate. Runs beside the other browser tests but
// starts its own server, because the shared one speaks plain HTTP in password mode.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { openPage, withBrowser } from './support.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '..', '..')
const statgov = process.env.STATGOV || path.join(root, 'build', 'statgov')
const shots = path.join(here, '..', 'e2e-screenshots')

async function startTlsServer(dir) {
  const run = (...args) => execFileSync(statgov, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  run('--db', path.join(dir, 'db'), 'demo', '--units', '60')
  const ca = path.join(dir, 'ca')
  run('ca', 'init', '--dir', ca, '--name', '测试 CA', '--days', '5')
  run('ca', 'issue-server', '--dir', ca, '--host', 'localhost,127.0.0.1', '--days', '5')
  run('ca', 'issue', '--dir', ca, '--user', 'demo-shi', '--out', path.join(dir, 'certs'), '--days', '5', '--p12-password', 'p12-secret')
  const portFile = path.join(dir, 'port')
  const server = spawn(
    statgov,
    ['--db', path.join(dir, 'db'), 'serve', '--listen', '127.0.0.1:0', '--port-file', portFile, '--web', 'web/dist',
      '--tls-cert', path.join(ca, 'server.pem'), '--tls-key', path.join(ca, 'server.key'),
      '--client-ca', path.join(ca, 'ca.pem'), '--crl', path.join(ca, 'crl.pem'), '--staff-auth', 'cert'],
    { cwd: root, stdio: ['ignore', 'ignore', fs.openSync(path.join(dir, 'server.log'), 'w')] },
  )
  for (let i = 0; i < 100 && !(fs.existsSync(portFile) && fs.readFileSync(portFile, 'utf8').trim()); i++) {
    await new Promise((r) => setTimeout(r, 100))
  }
  const port = fs.readFileSync(portFile, 'utf8').trim()
  return { server, baseUrl: `https://localhost:${port}`, certs: path.join(dir, 'certs') }
}

test('staff sign in with the certificate their browser presents; without one the page says why', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'statgov-certlogin-'))
  const { server, baseUrl, certs } = await startTlsServer(dir)
  try {
    await withBrowser(shots, 'certlogin', async ({ browser, pages, errors }) => {
      // 1. A browser without the certificate: the button is there but disabled, with the reason,
      //    and the staff password login is refused with the server's CERT_REQUIRED message.
      const p1 = await openPage(browser, { role: 'bare', pages, errors, contextOptions: { ignoreHTTPSErrors: true } })
      await p1.goto(`${baseUrl}/login`, { waitUntil: 'networkidle' })
      const hint = p1.locator('[data-testid="cert-hint"]')
      await hint.waitFor()
      assert.equal(await hint.getAttribute('data-reason'), 'none')
      assert.match(await hint.innerText(), /未出示证书/)
      assert.equal(await p1.locator('[data-testid="cert-login"]').isDisabled(), true)
      await p1.locator('input[name="login"]').fill('demo-shi')
      await p1.locator('input[name="password"]').fill('Statgov@2026')
      await p1.locator('[data-testid="login-submit"]').click()
      const err = p1.locator('[data-testid="login-error"]')
      await err.waitFor()
      assert.equal(await err.getAttribute('data-code'), 'CERT_REQUIRED')
      assert.ok(p1.url().endsWith('/login'), 'still on the login page')

      // 2. A browser that presents demo-shi's certificate: one click signs in, no password.
      const clientCertificates = [
        { origin: baseUrl, certPath: path.join(certs, 'demo-shi.pem'), keyPath: path.join(certs, 'demo-shi.key') },
      ]
      const p2 = await openPage(browser, {
        role: 'cert',
        pages,
        errors,
        contextOptions: { ignoreHTTPSErrors: true, clientCertificates },
      })
      await p2.goto(`${baseUrl}/login`, { waitUntil: 'networkidle' })
      const button = p2.locator('[data-testid="cert-login"]')
      await button.waitFor()
      assert.match(await button.innerText(), /使用证书登录（demo-shi）/)
      assert.equal(await button.isDisabled(), false)
      assert.equal(await p2.locator('[data-testid="cert-hint"]').count(), 0)
      await button.click()
      await p2.waitForURL((u) => !u.pathname.startsWith('/login'), { timeout: 15000 })
      await p2.locator('[data-testid="current-user"]').waitFor()
      assert.match(await p2.locator('[data-testid="current-user"]').innerText(), /demo-shi|市/)
      // The session works for the next request of the console (it carries the certificate too).
      const me = await p2.evaluate(async () => (await fetch('/api/v1/me')).status)
      assert.equal(me, 200)
      assert.deepEqual(errors, [])
    })
  } finally {
    server.kill()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
