/** Bureau time: China Standard Time, UTC+08:00, no DST. */
const CST_OFFSET_MS = 8 * 3600 * 1000

function pad(n: number): string {
  return String(n).padStart(2, '0')
}

/**
 * Formats an RFC 3339 time as `YYYY-MM-DD HH:mm` in Beijing time (the deadline
 * "2026-12-05T18:00:00+08:00" -> "2026-12-05 18:00"), independent of the browser's zone.
 */
export function formatDateTime(iso: string | null | undefined, withSeconds = false): string {
  if (!iso) return ''
  const ms = Date.parse(iso)
  if (Number.isNaN(ms)) return iso
  const d = new Date(ms + CST_OFFSET_MS)
  const s = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`
  return withSeconds ? `${s}:${pad(d.getUTCSeconds())}` : s
}

export const formatDeadline = (iso: string | null | undefined): string => formatDateTime(iso)

/** "2026M11" -> 2026年11月 / 2026-11; "2026Q3" -> 2026年第3季度 / 2026 Q3; "2026H1"; "2026". */
export function formatPeriod(period: string, locale: string): string {
  const en = locale.startsWith('en')
  let m = /^(\d{4})M(\d{1,2})$/.exec(period)
  if (m) return en ? `${m[1]}-${pad(Number(m[2]))}` : `${m[1]}年${Number(m[2])}月`
  m = /^(\d{4})Q([1-4])$/.exec(period)
  if (m) return en ? `${m[1]} Q${m[2]}` : `${m[1]}年第${m[2]}季度`
  m = /^(\d{4})H([12])$/.exec(period)
  if (m) return en ? `${m[1]} H${m[2]}` : `${m[1]}年${m[2] === '1' ? '上' : '下'}半年`
  m = /^(\d{4})$/.exec(period)
  if (m) return en ? m[1] : `${m[1]}年`
  return period
}
