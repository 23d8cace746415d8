// The one typed client of the statgov JSON API v1 (see docs/api.md).
import type {
  AuthAnswer,
  AuthMethods,
  ApiErrorBody,
  BulkAnswer,
  Form,
  FormSummary,
  Job,
  MissingUnit,
  Notice,
  Outlier,
  Progress,
  ProgressBy,
  QueueItem,
  RemindAnswer,
  Reminder,
  ReviewAction,
  RuleResult,
  Submission,
  Summary,
  SummaryCompare,
  SummaryQuery,
  SummaryUnit,
  Task,
  Unit,
  UnitPage,
  UploadAnswer,
  ValidateAnswer,
  Values,
  Version,
} from './types'

export const API_BASE = '/api/v1'
export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'

/** An HTTP error answer of the API (any 4xx/5xx), carrying the error body. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly messageEn: string
  readonly details: unknown[]
  constructor(status: number, code: string, message: string, messageEn?: string, details?: unknown[]) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.messageEn = messageEn || message
    this.details = details ?? []
  }
  /** The details as RuleResults, when they look like ones (RULE_FAILED, EXPLANATION_REQUIRED). */
  ruleResults(): RuleResult[] {
    return this.details.filter(
      (d): d is RuleResult => typeof d === 'object' && d !== null && typeof (d as RuleResult).rule === 'string',
    )
  }
}

/** The request never got an HTTP answer (network down, connection reset). Safe to retry idempotent calls. */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause))
    this.name = 'NetworkError'
  }
}

interface ClientHooks {
  csrfToken: () => string | null
  onUnauthorized: (path: string) => void
}

let hooks: ClientHooks = { csrfToken: () => null, onUnauthorized: () => {} }

export function configureClient(h: Partial<ClientHooks>): void {
  hooks = { ...hooks, ...h }
}

export async function errorFromResponse(res: Response): Promise<ApiError> {
  let body: Partial<ApiErrorBody> | null = null
  try {
    body = (await res.json()) as ApiErrorBody
  } catch {
    body = null
  }
  const e = body?.error
  if (e && typeof e.code === 'string') {
    return new ApiError(res.status, e.code, e.message ?? e.code, e.message_en, e.details)
  }
  return new ApiError(res.status, `HTTP_${res.status}`, `请求失败 (HTTP ${res.status})`, `Request failed (HTTP ${res.status})`)
}

interface RequestOptions {
  query?: Record<string, string | number | undefined | null>
  json?: unknown
  body?: BodyInit
  contentType?: string
  headers?: Record<string, string>
  /** Do not call the unauthorized hook on 401 (used by GET /me and login). */
  quiet401?: boolean
}

export function buildQuery(q?: RequestOptions['query']): string {
  if (!q) return ''
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, String(v))
  }
  const s = p.toString()
  return s ? `?${s}` : ''
}

/** One API call; exported for the per-area call sets beside this file (releases.ts). */
export async function request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers ?? {}) }
  let body: BodyInit | undefined
  if (opts.json !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.json)
  } else if (opts.body !== undefined) {
    body = opts.body
    if (opts.contentType) headers['Content-Type'] = opts.contentType
  }
  if (method !== 'GET' && method !== 'HEAD') {
    const token = hooks.csrfToken()
    if (token) headers['X-CSRF-Token'] = token
  }
  let res: Response
  try {
    res = await fetch(API_BASE + path + buildQuery(opts.query), {
      method,
      headers,
      body,
      credentials: 'same-origin',
    })
  } catch (err) {
    throw new NetworkError(err)
  }
  if (!res.ok) {
    const err = await errorFromResponse(res)
    if (res.status === 401 && !opts.quiet401) hooks.onUnauthorized(path)
    throw err
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  return (text ? JSON.parse(text) : undefined) as T
}

/** Path of a submission: /submissions/{unit}/{form}/{period} */
export function submissionPath(unit: number | string, form: string, period: string): string {
  return `/submissions/${encodeURIComponent(String(unit))}/${encodeURIComponent(form)}/${encodeURIComponent(period)}`
}

export function templateUrl(unit: number | string, form: string, period: string): string {
  return API_BASE + submissionPath(unit, form, period) + '/template.xlsx'
}

/** The query string of a summary request, parameters in a fixed order (form, period, by, states, compare). */
export function summaryParams(q: SummaryQuery): Record<string, string> {
  return { form: q.form, period: q.period, by: q.by, states: q.states, compare: q.compare }
}

/** URL of the summary table as an Excel file (a plain link: the session cookie goes along). */
export function summaryXlsxUrl(q: SummaryQuery): string {
  return API_BASE + '/summary.xlsx' + buildQuery(summaryParams(q))
}

export const api = {
  login(login: string, password: string): Promise<AuthAnswer> {
    return request('POST', '/auth/login', { json: { login, password }, quiet401: true })
  },
  /** Staff auth mode `cert` only: the browser's client certificate is the credential. */
  certLogin(totp?: string): Promise<AuthAnswer> {
    return request('POST', '/auth/cert-login', { json: totp ? { totp } : {}, quiet401: true })
  },
  authMethods(): Promise<AuthMethods> {
    return request('GET', '/auth/methods', { quiet401: true })
  },
  logout(): Promise<void> {
    return request('POST', '/auth/logout', { quiet401: true })
  },
  me(): Promise<AuthAnswer> {
    return request('GET', '/me', { quiet401: true })
  },
  tasks(unit?: number | string): Promise<{ items: Task[] }> {
    return request('GET', '/tasks', { query: { unit } })
  },
  forms(): Promise<{ items: FormSummary[] }> {
    return request('GET', '/forms')
  },
  form(code: string, version?: number | string): Promise<Form> {
    return request('GET', `/forms/${encodeURIComponent(code)}`, { query: { version } })
  },
  submission(unit: number | string, form: string, period: string): Promise<Submission> {
    return request('GET', submissionPath(unit, form, period))
  },
  validate(unit: number | string, form: string, period: string, values: Values): Promise<ValidateAnswer> {
    return request('POST', submissionPath(unit, form, period) + '/validate', { json: { values } })
  },
  saveDraft(unit: number | string, form: string, period: string, values: Values): Promise<Submission> {
    return request('PUT', submissionPath(unit, form, period) + '/draft', { json: { values } })
  },
  submit(
    unit: number | string,
    form: string,
    period: string,
    values: Values,
    explanations: Record<string, string>,
    idempotencyKey: string,
  ): Promise<Submission> {
    return request('POST', submissionPath(unit, form, period) + '/submit', {
      json: { values, explanations },
      headers: { 'Idempotency-Key': idempotencyKey },
    })
  },
  versions(unit: number | string, form: string, period: string): Promise<{ items: Version[] }> {
    return request('GET', submissionPath(unit, form, period) + '/versions')
  },
  upload(unit: number | string, form: string, period: string, file: Blob): Promise<UploadAnswer> {
    return request('POST', submissionPath(unit, form, period) + '/upload', { body: file, contentType: XLSX_TYPE })
  },
  units(q: { q?: string; region?: string; industry?: string; limit?: number; cursor?: string | null }): Promise<UnitPage> {
    return request('GET', '/units', { query: q })
  },
  unit(id: number | string): Promise<Unit> {
    return request('GET', `/units/${encodeURIComponent(String(id))}`)
  },

  // ---- Monitoring, review and reminders (issue #3) ----
  progress(q: { form: string; period: string; region?: string; by?: ProgressBy }): Promise<Progress> {
    return request('GET', '/monitor/progress', { query: q })
  },
  missing(q: { form: string; period: string; region?: string }): Promise<{ items: MissingUnit[] }> {
    return request('GET', '/monitor/missing', { query: q })
  },
  reviewQueue(q: { form: string; period: string }): Promise<{ items: QueueItem[] }> {
    return request('GET', '/review/queue', { query: q })
  },
  review(
    unit: number | string,
    form: string,
    period: string,
    body: { action: ReviewAction; version: number; reason?: string },
  ): Promise<Submission> {
    const json: Record<string, unknown> = { action: body.action, version: body.version }
    if (body.reason !== undefined) json.reason = body.reason
    return request('POST', submissionPath(unit, form, period) + '/review', { json })
  },
  bulkApprove(form: string, period: string, units: number[]): Promise<BulkAnswer> {
    return request('POST', '/review/bulk', { json: { form, period, units } })
  },
  revise(
    unit: number | string,
    form: string,
    period: string,
    body: { values: Values; reason: string; version: number },
  ): Promise<Submission> {
    return request('POST', submissionPath(unit, form, period) + '/revise', { json: body })
  },
  remind(body: { form: string; period: string; region?: string; message?: string }): Promise<RemindAnswer> {
    const json: Record<string, string> = { form: body.form, period: body.period }
    if (body.region) json.region = body.region
    if (body.message && body.message.trim()) json.message = body.message.trim()
    return request('POST', '/reminders', { json })
  },
  reminders(q: { form: string; period: string }): Promise<{ items: Reminder[] }> {
    return request('GET', '/reminders', { query: q })
  },
  notices(): Promise<{ items: Notice[] }> {
    return request('GET', '/notices')
  },
  revalidate(form: string, period: string): Promise<{ id: number | string }> {
    return request('POST', '/jobs/revalidate', { json: { form, period } })
  },
  job(id: number | string): Promise<Job> {
    return request('GET', `/jobs/${encodeURIComponent(String(id))}`)
  },

  // ---- Summary tables and analysis (issue #4) ----
  summary(q: SummaryQuery): Promise<Summary> {
    return request('GET', '/summary', { query: summaryParams(q) })
  },
  summaryUnits(q: SummaryQuery, key: string): Promise<{ items: SummaryUnit[] }> {
    return request('GET', '/summary/units', { query: { ...summaryParams(q), key } })
  },
  summaryOutliers(q: { form: string; period: string; indicator: string; compare?: SummaryCompare }): Promise<{ items: Outlier[] }> {
    return request('GET', '/summary/outliers', {
      query: { form: q.form, period: q.period, indicator: q.indicator, compare: q.compare },
    })
  },
}

/** URL of the server-sent event stream (same-origin cookie auth; EventSource sends the cookie). */
export const EVENTS_URL = API_BASE + '/events'

/** A random RFC 4122 v4 UUID; works outside secure contexts too (crypto.randomUUID needs one). */
export function uuid4(): string {
  const b = new Uint8Array(16)
  crypto.getRandomValues(b)
  b[6] = (b[6] & 0x0f) | 0x40
  b[8] = (b[8] & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

/**
 * Runs `attempt` and retries it (same arguments, so the same Idempotency-Key) only when the request got
 * no HTTP answer at all. HTTP errors are final and thrown at once.
 */
export async function withNetworkRetry<T>(attempt: () => Promise<T>, retries = 2, delayMs = 500): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt()
    } catch (err) {
      if (!(err instanceof NetworkError) || i >= retries) throw err
      await new Promise((r) => setTimeout(r, delayMs * (i + 1)))
    }
  }
}
