import { afterEach, describe, expect, it, vi } from 'vitest'
import { api, ApiError, buildQuery, configureClient, EVENTS_URL, NetworkError, uuid4, withNetworkRetry } from './client'

afterEach(() => {
  vi.unstubAllGlobals()
  configureClient({ csrfToken: () => null, onUnauthorized: () => {} })
})

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

describe('client', () => {
  it('sends the CSRF token and Idempotency-Key on submit', async () => {
    const fetchMock = vi.fn(async (..._args: unknown[]) => jsonResponse(200, { state: 'submitted', version: 2 }))
    vi.stubGlobal('fetch', fetchMock)
    configureClient({ csrfToken: () => 'tok123' })
    const sub = await api.submit(7, 'B204-1', '2026M11', { I01: 1 }, { yoy_output_01: 'x' }, 'key-1')
    expect(sub.version).toBe(2)
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit]
    expect(url).toBe('/api/v1/submissions/7/B204-1/2026M11/submit')
    const h = init.headers as Record<string, string>
    expect(h['X-CSRF-Token']).toBe('tok123')
    expect(h['Idempotency-Key']).toBe('key-1')
    expect(JSON.parse(init.body as string)).toEqual({ values: { I01: 1 }, explanations: { yoy_output_01: 'x' } })
  })
  it('does not send the CSRF token on GET and builds queries without blanks', async () => {
    const fetchMock = vi.fn(async (..._args: unknown[]) => jsonResponse(200, { items: [], next_cursor: null }))
    vi.stubGlobal('fetch', fetchMock)
    configureClient({ csrfToken: () => 'tok' })
    await api.units({ q: '株洲', region: '', limit: 20 })
    const [url, init] = fetchMock.mock.calls[0] as [string, RequestInit]
    expect(url).toBe('/api/v1/units?q=%E6%A0%AA%E6%B4%B2&limit=20')
    expect((init.headers as Record<string, string>)['X-CSRF-Token']).toBeUndefined()
    expect(buildQuery({ a: undefined, b: null, c: 0 })).toBe('?c=0')
  })
  it('turns an error body into an ApiError and reports 401', async () => {
    vi.stubGlobal('fetch', async () =>
      jsonResponse(401, { error: { code: 'UNAUTHENTICATED', message: '请先登录', message_en: 'Log in first' } }),
    )
    const seen: string[] = []
    configureClient({ onUnauthorized: (p) => seen.push(p) })
    const err = await api.tasks().catch((e) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect(err.status).toBe(401)
    expect(err.code).toBe('UNAUTHENTICATED')
    expect(err.messageEn).toBe('Log in first')
    expect(seen).toEqual(['/tasks'])
  })
  it('sends raw XLSX bytes on upload', async () => {
    const fetchMock = vi.fn(async (..._args: unknown[]) => jsonResponse(200, { values: {}, results: [] }))
    vi.stubGlobal('fetch', fetchMock)
    const blob = new Blob([new Uint8Array([0x50, 0x4b])])
    await api.upload(1, 'B204-1', '2026M11', blob)
    const [, init] = fetchMock.mock.calls[0] as [string, RequestInit]
    expect((init.headers as Record<string, string>)['Content-Type']).toBe(
      'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    )
    expect(init.body).toBe(blob)
  })
})

describe('retry with the same key', () => {
  it('retries only network failures', async () => {
    let n = 0
    const keys: string[] = []
    const key = uuid4()
    const r = await withNetworkRetry(
      async () => {
        keys.push(key)
        if (++n < 3) throw new NetworkError(new TypeError('Failed to fetch'))
        return 'ok'
      },
      2,
      1,
    )
    expect(r).toBe('ok')
    expect(keys).toEqual([key, key, key])
  })
  it('does not retry HTTP errors', async () => {
    let n = 0
    const err = await withNetworkRetry(
      async () => {
        n++
        throw new ApiError(422, 'RULE_FAILED', 'x')
      },
      2,
      1,
    ).catch((e) => e)
    expect(n).toBe(1)
    expect(err.code).toBe('RULE_FAILED')
  })
  it('makes v4 UUIDs', () => {
    const u = uuid4()
    expect(u).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    expect(uuid4()).not.toBe(u)
  })

  it('issue 3 calls: progress query, review and remind bodies, events URL', async () => {
    const fetchMock = vi.fn(async (..._args: unknown[]) => jsonResponse(200, { ok: true }))
    vi.stubGlobal('fetch', fetchMock)
    configureClient({ csrfToken: () => 'tok' })
    await api.progress({ form: 'B204-1', period: '2026M11', region: undefined, by: 'section' })
    expect(fetchMock.mock.calls[0][0]).toBe('/api/v1/monitor/progress?form=B204-1&period=2026M11&by=section')
    await api.review(7, 'B204-1', '2026M11', { action: 'return', reason: '核实', version: 3 })
    let [url, init] = fetchMock.mock.calls[1] as [string, RequestInit]
    expect(url).toBe('/api/v1/submissions/7/B204-1/2026M11/review')
    expect(init.method).toBe('POST')
    expect((init.headers as Record<string, string>)['X-CSRF-Token']).toBe('tok')
    expect(JSON.parse(init.body as string)).toEqual({ action: 'return', version: 3, reason: '核实' })
    await api.review(7, 'B204-1', '2026M11', { action: 'approve', version: 4 })
    expect(JSON.parse((fetchMock.mock.calls[2] as [string, RequestInit])[1].body as string)).toEqual({ action: 'approve', version: 4 })
    await api.remind({ form: 'B204-1', period: '2026M11', message: '  ' })
    ;[url, init] = fetchMock.mock.calls[3] as [string, RequestInit]
    expect(url).toBe('/api/v1/reminders')
    expect(JSON.parse(init.body as string)).toEqual({ form: 'B204-1', period: '2026M11' })
    await api.bulkApprove('B204-1', '2026M11', [1, 2])
    expect(JSON.parse((fetchMock.mock.calls[4] as [string, RequestInit])[1].body as string)).toEqual({ form: 'B204-1', period: '2026M11', units: [1, 2] })
    expect(EVENTS_URL).toBe('/api/v1/events')
  })
})
