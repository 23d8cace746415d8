// Releases and the 政务公开 catalogue on the internal side (docs/publication.md section 5).
import type { Dataset } from '../../portal/src/api/types'
import { API_BASE, request } from './client'

export type ReleaseState = 'planned' | 'prepared' | 'signed' | 'published' | 'cancelled'
export type ReleaseTableBy = 'county' | 'section' | 'size'

export interface ReleaseTable {
  by: ReleaseTableBy
  indicators: string[]
}

export interface Release {
  id: string
  code?: string
  title_zh: string
  title_en: string
  /** UTC, to the minute */
  release_at: string
  form: string
  period: string
  tables: ReleaseTable[]
  prerelease: string[]
  notes_zh?: string
  notes_en?: string
  state: ReleaseState | string
  prepared_at?: string | null
  signed_at?: string | null
  signed_by?: string | null
  package_name?: string | null
  package_sequence?: number | null
  datasets?: Array<string | { id: string }>
  [k: string]: unknown
}

export interface ReleaseInput {
  code: string
  title_zh: string
  title_en: string
  /** ISO with offset, to the minute: 2026-12-15T09:30+08:00 */
  release_at: string
  form: string
  period: string
  tables: ReleaseTable[]
  prerelease: string[]
  notes_zh?: string
  notes_en?: string
}

export interface Preview {
  datasets: Dataset[]
  [k: string]: unknown
}

export interface DocAttachment {
  name: string
  size?: number
  /** base64 bytes, when uploading */
  content_base64?: string
  [k: string]: unknown
}

export interface GovDocument {
  index_no: string
  title: string
  category: string
  publisher: string
  date: string
  body: string
  attachments?: DocAttachment[]
  published_sequence?: number | null
  updated_at?: string
  [k: string]: unknown
}

/** Lists come as {items: [...]} (the API's way) or as a bare array. */
function items<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[]
  const o = body as { items?: unknown } | null
  return o && Array.isArray(o.items) ? (o.items as T[]) : []
}

const enc = encodeURIComponent

export function packageUrl(id: string): string {
  return `${API_BASE}/releases/${enc(id)}/package`
}

export function documentFileUrl(indexNo: string, name: string): string {
  return `${API_BASE}/documents/${enc(indexNo)}/files/${enc(name)}`
}

export const releasesApi = {
  async list(): Promise<Release[]> {
    return items<Release>(await request('GET', '/releases'))
  },
  get(id: string): Promise<Release> {
    return request('GET', `/releases/${enc(id)}`)
  },
  create(body: ReleaseInput): Promise<Release> {
    return request('POST', '/releases', { json: body })
  },
  update(id: string, body: Partial<ReleaseInput>): Promise<Release> {
    return request('PATCH', `/releases/${enc(id)}`, { json: body })
  },
  prepare(id: string): Promise<Release> {
    return request('POST', `/releases/${enc(id)}/prepare`)
  },
  async preview(id: string): Promise<Preview> {
    const b = await request<unknown>('GET', `/releases/${enc(id)}/preview`)
    if (Array.isArray(b)) return { datasets: b as Dataset[] }
    const o = (b ?? {}) as Record<string, unknown>
    return { ...o, datasets: Array.isArray(o.datasets) ? (o.datasets as Dataset[]) : items<Dataset>(o) }
  },
  signoff(id: string, password: string): Promise<Release> {
    return request('POST', `/releases/${enc(id)}/signoff`, { json: { password } })
  },

  async documents(q?: { q?: string; category?: string }): Promise<GovDocument[]> {
    return items<GovDocument>(await request('GET', '/documents', { query: q }))
  },
  document(indexNo: string): Promise<GovDocument> {
    return request('GET', `/documents/${enc(indexNo)}`)
  },
  createDocument(body: Partial<GovDocument>): Promise<GovDocument> {
    return request('POST', '/documents', { json: body })
  },
  updateDocument(indexNo: string, body: Partial<GovDocument>): Promise<GovDocument> {
    return request('PATCH', `/documents/${enc(indexNo)}`, { json: body })
  },
}

/** "2026-12-15T09:30" (a wall-clock minute in Beijing time) -> "2026-12-15T09:30+08:00". */
export function beijingInputToIso(local: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2})/.exec(local.trim())
  return m ? `${m[1]}T${m[2]}+08:00` : ''
}

/** A UTC instant -> the "YYYY-MM-DDTHH:mm" Beijing wall-clock minute for a datetime-local input. */
export function isoToBeijingInput(iso: string | null | undefined): string {
  if (!iso) return ''
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return ''
  const d = new Date(ms + 8 * 3600 * 1000)
  const p = (n: number) => String(n).padStart(2, '0')
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:${p(d.getUTCMinutes())}`
}

/** What a role may do with releases: publishers plan, prepare and sign; leader, city and admin read. */
export function releaseRights(role: string | null | undefined): { read: boolean; write: boolean } {
  const write = role === 'publisher'
  return { read: write || role === 'admin' || role === 'leader' || role === 'city', write }
}

/** Actions offered in a state (the server re-checks every one). */
export function releaseActions(state: string): { edit: boolean; prepare: boolean; preview: boolean; signoff: boolean; download: boolean } {
  return {
    edit: state === 'planned' || state === 'prepared',
    prepare: state === 'planned' || state === 'prepared',
    preview: state === 'prepared' || state === 'signed' || state === 'published',
    signoff: state === 'prepared',
    download: state === 'signed' || state === 'published',
  }
}
