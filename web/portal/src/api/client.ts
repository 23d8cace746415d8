// The portal's one typed client of its public JSON API (docs/publication.md section 4).
import type { CalendarEntry, Dataset, DatasetSummary, DataFormat, PublicDocument, Release } from './types'

export const API_BASE = '/api/v1'

/** An HTTP error answer of the portal, carrying the platform's error body when there is one. */
export class PortalError extends Error {
  readonly status: number
  readonly code: string
  readonly messageEn: string
  constructor(status: number, code: string, message: string, messageEn?: string) {
    super(message)
    this.name = 'PortalError'
    this.status = status
    this.code = code
    this.messageEn = messageEn || message
  }
}

/** Lists come as a bare array or as {items: [...]}; both are read. */
export function listOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[]
  if (body && typeof body === 'object') {
    const o = body as Record<string, unknown>
    for (const k of ['items', 'releases', 'calendar', 'datasets', 'documents']) {
      if (Array.isArray(o[k])) return o[k] as T[]
    }
  }
  return []
}

export function buildQuery(q?: Record<string, string | undefined | null>): string {
  if (!q) return ''
  const p = new URLSearchParams()
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== null && v !== '') p.set(k, v)
  const s = p.toString()
  return s ? `?${s}` : ''
}

async function get<T>(path: string, query?: Record<string, string | undefined | null>): Promise<T> {
  const res = await fetch(API_BASE + path + buildQuery(query), { headers: { Accept: 'application/json' } })
  if (!res.ok) {
    let body: { error?: { code?: string; message?: string; message_en?: string } } | null = null
    try {
      body = await res.json()
    } catch {
      body = null
    }
    const e = body?.error
    if (e && typeof e.code === 'string') throw new PortalError(res.status, e.code, e.message ?? e.code, e.message_en)
    throw new PortalError(res.status, `HTTP_${res.status}`, `请求失败 (HTTP ${res.status})`, `Request failed (HTTP ${res.status})`)
  }
  return (await res.json()) as T
}

const enc = encodeURIComponent

/** URL of a dataset download in one of the open formats. */
export function dataUrl(id: string, format: DataFormat, filter?: Record<string, string>): string {
  return `${API_BASE}/datasets/${enc(id)}/data${buildQuery({ format, ...(filter ?? {}) })}`
}

/** URL of the dataset's data on the portal's SDMX REST 2.1 interface (all series). */
export function sdmxDataUrl(d: { id: string; agency?: string; version?: string }): string {
  return `/rest/data/${enc(d.agency || 'all')},${enc(d.id)},${enc(d.version || 'latest')}/all`
}

/** URL of the dataflow with its structure (data structure, code lists). */
export function sdmxStructureUrl(d: { id: string; agency?: string; version?: string }): string {
  return `/rest/dataflow/${enc(d.agency || 'all')}/${enc(d.id)}/${enc(d.version || 'latest')}?references=all`
}

export function attachmentUrl(indexNo: string, name: string): string {
  return `${API_BASE}/documents/${enc(indexNo)}/files/${enc(name)}`
}

export const api = {
  async releases(): Promise<Release[]> {
    return listOf<Release>(await get('/releases'))
  },
  async calendar(): Promise<CalendarEntry[]> {
    return listOf<CalendarEntry>(await get('/calendar'))
  },
  async datasets(): Promise<DatasetSummary[]> {
    return listOf<DatasetSummary>(await get('/datasets'))
  },
  dataset(id: string): Promise<Dataset> {
    return get(`/datasets/${enc(id)}`)
  },
  async documents(q?: { q?: string; category?: string }): Promise<PublicDocument[]> {
    return listOf<PublicDocument>(await get('/documents', q))
  },
  document(indexNo: string): Promise<PublicDocument> {
    return get(`/documents/${enc(indexNo)}`)
  },
}
