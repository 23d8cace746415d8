// Types of the statgov JSON API v1 (docs/api.md "Types").

export type Role =
  | 'enterprise'
  | 'township'
  | 'county'
  | 'city'
  | 'leader'
  | 'publisher'
  | 'provider'
  | 'admin'

export interface User {
  id: number
  login: string
  name: string
  role: Role
  region: string
  unit_id: number | null
}

export interface AuthAnswer {
  user: User
  csrf_token: string
}

/** GET /auth/methods: how staff log in here, and the TLS client certificate this connection presented. */
export interface AuthMethods {
  staff: 'password' | 'cert' | 'password+cert'
  certificate: { state: 'none' | 'verified' | 'revoked' | 'untrusted'; cn?: string }
}

export type SubmissionState =
  | 'not_started'
  | 'draft'
  | 'submitted'
  | 'returned'
  | 'reviewed'
  | 'approved'
  | 'accepted'

export interface Task {
  unit_id: number
  unit_name: string
  form_code: string
  form_name: string
  form_name_en?: string
  form_version: number
  frequency: string
  period: string
  deadline: string
  state: SubmissionState
  overdue: boolean
}

export interface FormSummary {
  code: string
  version: number
  name: string
  name_en?: string
  frequency?: string
  [k: string]: unknown
}

export interface Indicator {
  code: string
  name: string
  name_en?: string
  unit?: string
  type: 'number' | 'integer' | 'text'
  decimals?: number | null
  required?: boolean
  min?: number | null
  max?: number | null
}

export interface LayoutColumn {
  key: string
  label: string
  label_en?: string
  /** A reference column (e.g. "ly:cur") shows another period's values; rows have no cells for it. */
  reference?: string
}

export interface LayoutRow {
  code: string
  name: string
  name_en?: string
  unit?: string
  unit_en?: string
  cells: Record<string, string>
}

export interface Layout {
  columns: LayoutColumn[]
  rows: LayoutRow[]
}

export type Severity = 'error' | 'warning'

export interface Rule {
  name: string
  severity: Severity
  expr: string
  message: string
  message_en?: string
}

export interface Form {
  code: string
  version: number
  name: string
  name_en?: string
  frequency: string
  deadline?: { day: number; hour: number }
  indicators: Indicator[]
  layout?: Layout | null
  rules: Rule[]
}

export interface RuleResult {
  rule: string
  severity: Severity
  message: string
  message_en?: string
  indicators: string[]
}

export type Value = number | string
export type Values = Record<string, Value>

/** Reference values of another period (previous period, same period last year). */
export interface Reference {
  values: Record<string, number | null>
  [k: string]: unknown
}

export interface SubmissionEvent {
  at: string
  actor: string
  action: string
  from?: string | null
  to?: string | null
  reason?: string | null
}

export interface Submission {
  unit_id: number
  unit_name?: string
  uscc?: string
  form_name?: string
  deadline?: string
  editable?: boolean
  form_code: string
  form_version: number
  period: string
  state: SubmissionState
  version: number
  values: Values
  explanations: Record<string, string>
  results?: RuleResult[]
  updated_at?: string | null
  events?: SubmissionEvent[]
  prev?: Reference | null
  ly?: Reference | null
}

export interface Version {
  version: number
  state: SubmissionState
  values: Values
  explanations: Record<string, string>
  created_at: string
  actor: string
}

export interface Unit {
  id: number
  uscc: string
  name: string
  region: string
  region_name?: string
  industry: string
  industry_name?: string
  size?: string
  status?: string
  attributes?: Record<string, unknown>
  history?: Array<Record<string, unknown>>
}

export interface UnitPage {
  items: Unit[]
  next_cursor?: string | null
}

export interface ValidateAnswer {
  results: RuleResult[]
}

export interface UploadAnswer {
  values: Values
  results: RuleResult[]
}

export interface ApiErrorBody {
  error: {
    code: string
    message: string
    message_en?: string
    details?: unknown[]
  }
}

// ---- Monitoring, review and reminders (docs/api.md "issue #3") ----

/** One row of GET /monitor/progress: a child region (12-digit key) or an industry 门类 (letter key). */
export interface ProgressRow {
  key: string
  name: string
  expected: number
  not_started: number
  draft: number
  submitted: number
  returned: number
  reviewed: number
  approved: number
  accepted: number
  overdue: number
  on_time: number
  on_time_rate: number
}

export interface RegionRef {
  code: string
  name: string
  level: string | number
}

export interface Progress {
  form: string
  period: string
  deadline: string
  region: RegionRef
  rows: ProgressRow[]
  total: ProgressRow
}

export type ProgressBy = 'region' | 'section'

export interface MissingUnit {
  unit_id: number
  uscc: string
  name: string
  region: string
  region_name: string
  contact?: string | null
  phone?: string | null
  email?: string | null
  state: SubmissionState
  overdue: boolean
}

/** data of an `event: submission` server-sent event. */
export interface SubmissionChange {
  seq: number
  unit_id: number
  form: string
  period: string
  region: string
  state: SubmissionState
}

export interface QueueItem {
  unit_id: number
  unit_name: string
  region: string
  region_name: string
  state: SubmissionState
  version: number
  warnings: number
  errors: number
  updated_at: string
}

export type ReviewAction = 'approve' | 'return'

export interface BulkSkip {
  unit_id: number
  code: string
  message: string
  message_en?: string
}

export interface BulkAnswer {
  approved: number[]
  skipped: BulkSkip[]
}

export interface RemindAnswer {
  id: number | string
  count: number
  units: number[]
}

export interface Delivery {
  unit_id: number
  unit_name: string
  channel: 'inapp' | 'email' | 'sms' | string
  status: 'pending' | 'sent' | 'failed' | string
  attempts: number
  last_error?: string | null
}

export interface Reminder {
  id: number | string
  at: string
  actor: string
  form: string
  period: string
  region: string
  count: number
  deliveries: Delivery[]
}

export interface Notice {
  id: number | string
  at: string
  /** Not in docs/api.md; the server under construction sends "reminder" or "return". Optional. */
  kind?: string
  form: string
  period: string
  title: string
  body: string
  read: boolean
}

export interface Job {
  id: number | string
  kind: string
  state: 'running' | 'done' | 'failed'
  done: number
  total: number
  result?: unknown
}

// ---- Summary tables and analysis (docs/api.md "issue #4") ----

/** Row dimension of a summary: regions (city, counties, townships), industry (门类, 大类) or size class. */
export type SummaryBy = 'city' | 'county' | 'township' | 'section' | 'division' | 'size'
/** Which submissions count: `submitted` (submitted, reviewed, approved and accepted; the default) or accepted only. */
export type SummaryStates = 'submitted' | 'accepted'
/** Comparison period: same period last year (`ly`, the default) or the previous period (`prev`). */
export type SummaryCompare = 'ly' | 'prev'

/** The query shared by GET /summary, /summary.xlsx and (plus `key`) /summary/units. */
export interface SummaryQuery {
  form: string
  period: string
  by: SummaryBy
  states: SummaryStates
  compare: SummaryCompare
}

export interface SummaryIndicator {
  code: string
  name: string
  name_en?: string
  unit?: string
  /** Not in docs/api.md; the server sends the indicator's decimals. Optional (the form has them too). */
  decimals?: number | null
}

/** Growth on comparable units (可比口径): units that reported the indicator in both periods. */
export interface SummaryComparable {
  current: number | null
  previous: number | null
  /** A fraction (0.081 = 8.1 %); null when the previous figure is 0 or no unit is comparable. */
  growth: number | null
  units: number
}

export interface SummaryRow {
  /** county `430202`, township `430202001`, 门类 `C`, 大类 `33`, size `1`..`4`, city `4302` */
  key: string
  name: string
  units: number
  values: Record<string, number | null>
  counts?: Record<string, number>
  comparable?: Record<string, SummaryComparable | null>
  /** Share of the total, a fraction. */
  share?: Record<string, number | null>
  /** 1 = largest value. */
  rank?: Record<string, number | null>
}

export interface Summary {
  form: string
  period: string
  compare_period: string
  by: SummaryBy
  states: SummaryStates
  indicators: SummaryIndicator[]
  rows: SummaryRow[]
  total: SummaryRow
}

/** One unit behind a summary row (GET /summary/units). */
export interface SummaryUnit {
  unit_id: number
  uscc: string
  name: string
  region: string
  region_name: string
  industry: string
  size: number | string
  values: Record<string, number | string | null>
}

/** One unit of GET /summary/outliers (ranked, most suspicious first). */
export interface Outlier {
  unit_id: number
  name: string
  region_name: string
  current: number | null
  previous: number | null
  ratio: number | null
  hb_score: number | null
  hb_outlier: boolean
  mad_score: number | null
  mad_outlier: boolean
}
