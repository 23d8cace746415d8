// Types of the portal's public JSON API (docs/publication.md sections 3 and 4).

export interface Code {
  id: string
  name_zh: string
  name_en: string
  parent?: string
  unit_zh?: string
  unit_en?: string
}

export type DimensionRole = 'geo' | 'metric' | 'time' | ''

export interface Dimension {
  id: string
  name_zh: string
  name_en: string
  role?: DimensionRole | string
  codes: Code[]
}

export interface Observation {
  /** one index per dimension, into its codes */
  key: number[]
  value: number | null
  /** absent = normal, C = confidential (suppressed), M = missing */
  status?: 'C' | 'M' | string
}

export interface Dataset {
  id: string
  agency: string
  version: string
  title_zh: string
  title_en: string
  description_zh?: string
  description_en?: string
  unit_zh?: string
  unit_en?: string
  decimals?: number
  source_zh?: string
  source_en?: string
  updated?: string
  dimensions: Dimension[]
  observations: Observation[]
}

/** One entry of GET /api/v1/datasets (the catalogue). */
export interface DatasetSummary {
  id: string
  agency?: string
  version?: string
  title_zh: string
  title_en: string
  unit_zh?: string
  unit_en?: string
  updated?: string
  release_id?: string
  dimensions?: Array<{ id: string; name_zh: string; name_en: string }>
}

export interface Release {
  id: string
  title_zh: string
  title_en: string
  release_at: string
  datasets?: string[]
  notes_zh?: string
  notes_en?: string
  revises?: Revision[]
}

/** A published value this release corrects (release.json "revises"). */
export interface Revision {
  dataset: string
  release: string
  changed: number
  periods: string[]
  reason_zh: string
  reason_en: string
}

export interface CalendarEntry {
  id: string
  title_zh: string
  title_en: string
  release_at: string
  status?: string
}

export interface Attachment {
  name: string
  path?: string
}

export interface PublicDocument {
  index_no: string
  title: string
  category?: string
  publisher?: string
  date?: string
  body?: string
  attachments?: Attachment[]
}

export interface ApiErrorBody {
  error: { code: string; message: string; message_en?: string }
}

/** Download formats of GET /api/v1/datasets/{id}/data. */
export const DATA_FORMATS = ['csv', 'xlsx', 'sdmx-csv', 'jsonstat'] as const
export type DataFormat = (typeof DATA_FORMATS)[number]
