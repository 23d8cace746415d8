// Release times: instants in UTC from the API, shown to the minute in Beijing time (UTC+08:00).
import { formatDateTime } from '../../../src/lib/format'

const CST_OFFSET_MS = 8 * 3600 * 1000

/** "2026-12-15T01:30:00Z" -> "2026-12-15 09:30" (Beijing time, independent of the browser's zone). */
export function beijingMinute(iso: string | null | undefined): string {
  return formatDateTime(iso)
}

/** The Beijing-time calendar year of an instant (NaN for a bad string). */
export function beijingYear(iso: string): number {
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? NaN : new Date(ms + CST_OFFSET_MS).getUTCFullYear()
}

/** Whether the instant has passed at `nowMs`. */
export function isPast(iso: string, nowMs = Date.now()): boolean {
  const ms = Date.parse(iso)
  return !Number.isNaN(ms) && ms <= nowMs
}

/** Calendar entries split into upcoming (soonest first) and published (newest first). */
export function splitCalendar<T extends { release_at: string; status?: string }>(
  entries: readonly T[],
  nowMs = Date.now(),
): { upcoming: T[]; published: T[] } {
  const published = entries.filter((e) => e.status === 'published' || isPast(e.release_at, nowMs))
  const upcoming = entries.filter((e) => !published.includes(e) && e.status !== 'cancelled')
  const t = (e: T) => Date.parse(e.release_at) || 0
  upcoming.sort((a, b) => t(a) - t(b))
  published.sort((a, b) => t(b) - t(a))
  return { upcoming, published }
}
