// Throwaway development mock of the statgov API (docs/api.md) that also serves web/dist.
// NOT used by the committed e2e test, which runs against the real server via BASE_URL.
// Usage: node e2e/mock-server.mjs [port]   (default 8099)
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import crypto from 'node:crypto'

const PORT = Number(process.argv[2] || 8099)
const DIST = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'dist')

const users = {
  'demo-qiye': { password: 'Statgov@2026', user: { id: 1, login: 'demo-qiye', name: '株洲示范机械有限公司填报员', role: 'enterprise', region: '430202000000', unit_id: 12 } },
  'demo-city': { password: 'Statgov@2026', user: { id: 2, login: 'demo-city', name: '市局管理员', role: 'city', region: '430200000000', unit_id: null } },
}
const sessions = new Map() // sid -> {user, csrf}
let failures = 0

const form = {
  code: 'B204-1', version: 1, name: '工业产销总值及主要产品产量', name_en: 'Industrial output, sales and main products',
  frequency: 'month', deadline: { day: 5, hour: 18 },
  indicators: [
    ['I01', '工业总产值(当年价格)', 'Gross industrial output (current prices)', '千元'],
    ['I01_YTD', '工业总产值(当年价格)累计', 'Gross industrial output, YTD', '千元'],
    ['I03', '工业销售产值', 'Industrial sales output', '千元'],
    ['I03_YTD', '工业销售产值累计', 'Industrial sales output, YTD', '千元'],
    ['I04', '其中:出口交货值', 'of which: export delivery value', '千元'],
    ['I04_YTD', '其中:出口交货值累计', 'of which: export delivery value, YTD', '千元'],
    ['I05', '企业用电量', 'Electricity consumption', '万千瓦小时'],
    ['I05_YTD', '企业用电量累计', 'Electricity consumption, YTD', '万千瓦小时'],
  ].map(([code, name, name_en, unit]) => ({ code, name, name_en, unit, type: 'number', decimals: 1, required: true, min: 0, max: null }))
    .concat([{ code: 'N01', name: '从业人员平均人数', name_en: 'Average employees', unit: '人', type: 'integer', decimals: 0, required: false, min: 0, max: null }]),
  layout: {
    columns: [{ key: 'cur', label: '本月', label_en: 'This month' }, { key: 'ytd', label: '1-本月', label_en: 'Jan to this month' }],
    rows: [
      { code: '01', name: '一、工业总产值(当年价格)', unit: '千元', cells: { cur: 'I01', ytd: 'I01_YTD' } },
      { code: '02', name: '二、工业销售产值', unit: '千元', cells: { cur: 'I03', ytd: 'I03_YTD' } },
      { code: '03', name: '其中:出口交货值', unit: '千元', cells: { cur: 'I04', ytd: 'I04_YTD' } },
      { code: '04', name: '三、企业用电量', unit: '万千瓦小时', cells: { cur: 'I05', ytd: 'I05_YTD' } },
    ],
  },
  rules: [],
}
const prev = { values: { I01: 1100, I01_YTD: 10000, I03: 1000, I03_YTD: 9500, I04: 100, I04_YTD: 1000, I05: 50, I05_YTD: 500.5 } }
const ly = { values: { I01: 1000, I01_YTD: 9000, I03: 950, I03_YTD: 8600, I04: 90, I04_YTD: 880, I05: 48, I05_YTD: 480 } }

const subs = new Map() // key -> submission
const idem = new Map()
function subKey(u, f, p) { return `${u}/${f}/${p}` }
function getSub(u, f, p) {
  const k = subKey(u, f, p)
  if (!subs.has(k)) subs.set(k, { unit_id: Number(u), form_code: f, form_version: 1, period: p, state: 'not_started', version: 0, values: {}, explanations: {}, results: [], updated_at: null, events: [], versions: [] })
  return subs.get(k)
}

function rr(rule, severity, message, message_en, indicators) { return { rule, severity, message, message_en, indicators } }
function validate(v) {
  const out = []
  const has = (c) => typeof v[c] === 'number'
  for (const n of ['01', '03', '04', '05']) {
    const c = 'I' + n, y = c + '_YTD'
    if (has(c) && has(y) && Math.abs(v[y] - (prev.values[y] + v[c])) > 0.05)
      out.push(rr('ytd_identity_' + n, 'error', `1-本月累计应等于上月止累计(${prev.values[y]})加本月`, 'YTD must equal previous YTD plus this month', [c, y]))
  }
  if (has('I04') && has('I03') && v.I04 > v.I03) out.push(rr('export_le_sales', 'error', '出口交货值不能大于工业销售产值', 'Export delivery value must not exceed sales output', ['I04', 'I03']))
  if (has('I03') && has('I01') && v.I03 > v.I01 * 1.2) out.push(rr('sales_le_output', 'error', '工业销售产值不应超过工业总产值的1.2倍', 'Sales output must not exceed 1.2 x gross output', ['I03', 'I01']))
  if (has('I01') && v.I01 > ly.values.I01 * 1.5) out.push(rr('yoy_output_01', 'warning', '工业总产值比上年同期增长超过50%，请说明原因', 'Gross output grew more than 50% year on year: explain', ['I01']))
  for (const i of form.indicators) if (i.required && !has(i.code)) out.push(rr('required_' + i.code, 'error', `${i.name}必须填报`, `${i.name_en} is required`, [i.code]))
  return out
}

function send(res, status, body, headers = {}) {
  const data = body === undefined ? '' : JSON.stringify(body)
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', ...headers })
  res.end(data)
}
function err(res, status, code, message, message_en, details) { send(res, status, { error: { code, message, message_en, details } }) }
function readBody(req) {
  return new Promise((resolve) => { const c = []; req.on('data', (d) => c.push(d)); req.on('end', () => resolve(Buffer.concat(c))) })
}
function session(req) {
  const m = /(?:^|;\s*)sg_session=([^;]+)/.exec(req.headers.cookie || '')
  return m ? sessions.get(m[1]) : undefined
}
function publicSub(s) { const { versions, ...rest } = s; return { ...rest, prev, ly } }

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://x')
  const p = url.pathname
  if (p === '/healthz') return send(res, 200, { status: 'ok' })
  if (!p.startsWith('/api/')) {
    let file = path.join(DIST, p)
    if (!file.startsWith(DIST) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) file = path.join(DIST, 'index.html')
    const ext = path.extname(file)
    const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' }
    res.writeHead(200, { 'Content-Type': types[ext] || 'application/octet-stream', 'Content-Security-Policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:" })
    return fs.createReadStream(file).pipe(res)
  }
  const raw = await readBody(req)
  const json = () => { try { return JSON.parse(raw.toString() || '{}') } catch { return null } }
  if (p === '/api/v1/auth/login' && req.method === 'POST') {
    const b = json()
    if (failures >= 5) return err(res, 429, 'THROTTLED', '登录失败次数过多，请稍后再试', 'Too many failed logins, try later')
    const u = users[b?.login]
    if (!u || u.password !== b.password) { failures++; return err(res, 401, 'BAD_CREDENTIALS', '用户名或密码错误', 'Wrong user name or password') }
    const sid = crypto.randomUUID(), csrf = crypto.randomUUID()
    sessions.set(sid, { user: u.user, csrf })
    return send(res, 200, { user: u.user, csrf_token: csrf }, { 'Set-Cookie': `sg_session=${sid}; HttpOnly; SameSite=Strict; Path=/` })
  }
  const s = session(req)
  if (!s) return err(res, 401, 'UNAUTHENTICATED', '请先登录', 'Please log in')
  if (req.method !== 'GET' && req.headers['x-csrf-token'] !== s.csrf) return err(res, 403, 'CSRF', 'CSRF令牌无效', 'Bad CSRF token')
  if (p === '/api/v1/auth/logout') { res.writeHead(204, { 'Set-Cookie': 'sg_session=; Max-Age=0; Path=/' }); return res.end() }
  if (p === '/api/v1/me') return send(res, 200, { user: s.user, csrf_token: s.csrf })
  if (p === '/api/v1/tasks') {
    const items = [['2026M11', false, '2026-12-05T18:00:00+08:00'], ['2026M10', false, '2026-11-05T18:00:00+08:00']].map(([period, overdue, deadline]) => ({
      unit_id: 12, unit_name: '株洲示范机械有限公司', form_code: 'B204-1', form_name: form.name, form_version: 1, frequency: 'month', period, deadline,
      state: period === '2026M10' ? 'approved' : getSub(12, 'B204-1', period).state, overdue,
    }))
    items.push({ unit_id: 12, unit_name: '株洲示范机械有限公司', form_code: 'B103', form_name: '从业人员及工资总额', form_version: 1, frequency: 'quarter', period: '2026Q3', deadline: '2026-10-15T18:00:00+08:00', state: 'not_started', overdue: true })
    return send(res, 200, { items })
  }
  if (p.startsWith('/api/v1/forms/')) return send(res, 200, form)
  let m = /^\/api\/v1\/submissions\/([^/]+)\/([^/]+)\/([^/]+)(?:\/(\w+(?:\.xlsx)?))?$/.exec(p)
  if (m) {
    const [, u, f, per, action] = m
    const sub = getSub(u, decodeURIComponent(f), per)
    if (!action && req.method === 'GET') return send(res, 200, publicSub(sub))
    if (action === 'versions') return send(res, 200, { items: sub.versions })
    if (action === 'validate') { const b = json(); return send(res, 200, { results: validate(b.values || {}) }) }
    if (action === 'draft') {
      const b = json(); sub.values = b.values; sub.state = 'draft'; sub.results = validate(b.values); sub.updated_at = new Date().toISOString()
      return send(res, 200, publicSub(sub))
    }
    if (action === 'submit') {
      const key = req.headers['idempotency-key']
      if (key && idem.has(key)) return send(res, 200, idem.get(key))
      const b = json()
      const extra = Object.keys(b).filter((k) => k !== 'values' && k !== 'explanations')
      if (extra.length) return err(res, 400, 'UNKNOWN_FIELD', '未知字段', 'Unknown field', extra)
      const results = validate(b.values || {})
      const errors = results.filter((r) => r.severity === 'error')
      if (errors.length) return err(res, 422, 'RULE_FAILED', '审核未通过', 'Edit checks failed', errors)
      const missing = results.filter((r) => r.severity === 'warning' && !(b.explanations || {})[r.rule])
      if (missing.length) return err(res, 422, 'EXPLANATION_REQUIRED', '请填写说明', 'Explanation required', missing)
      sub.values = b.values; sub.explanations = b.explanations || {}; sub.state = 'submitted'; sub.version += 1; sub.results = results
      sub.updated_at = new Date().toISOString()
      sub.versions.push({ version: sub.version, state: 'submitted', values: sub.values, explanations: sub.explanations, created_at: sub.updated_at, actor: s.user.login })
      const ans = publicSub(sub)
      if (key) idem.set(key, ans)
      return send(res, 200, ans)
    }
    if (action === 'upload') return err(res, 422, 'IMPORT_FAILED', '模拟服务器不解析Excel', 'Mock does not parse Excel')
    if (action === 'template.xlsx') { res.writeHead(200, { 'Content-Type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' }); return res.end('PK') }
  }
  if (p === '/api/v1/units') {
    const all = Array.from({ length: 45 }, (_, i) => ({ id: i + 1, uscc: '91430200MA4L' + String(i).padStart(6, '0'), name: `株洲测试企业${i + 1}号`, region: '430202000000', region_name: '荷塘区', industry: 'C3411', industry_name: '锅炉及辅助设备制造', size: 'M', status: 'active', attributes: {} }))
    const q = url.searchParams.get('q') || ''
    const list = all.filter((x) => !q || x.name.includes(q) || x.uscc.includes(q))
    const start = Number(url.searchParams.get('cursor') || 0), limit = Number(url.searchParams.get('limit') || 20)
    return send(res, 200, { items: list.slice(start, start + limit), next_cursor: start + limit < list.length ? String(start + limit) : null })
  }
  m = /^\/api\/v1\/units\/(\d+)$/.exec(p)
  if (m) return send(res, 200, { id: Number(m[1]), uscc: '91430200MA4L000001', name: '株洲测试企业', region: '430202000000', region_name: '荷塘区', industry: 'C3411', industry_name: '锅炉及辅助设备制造', size: 'M', status: 'active', attributes: { phone: '0731-1234567' }, history: [{ at: '2026-10-01T09:00:00+08:00', actor: 'admin', field: 'name', from: '旧名', to: '株洲测试企业' }] })
  return err(res, 404, 'NOT_FOUND', '未找到', 'Not found')
})
server.listen(PORT, '127.0.0.1', () => console.log(`mock statgov on http://127.0.0.1:${PORT}`))
