/** Bureau time: China Standard Time, UTC+08:00, no DST. */
const CST_OFFSET_MS = 8 * 3600 * 1000

/** Year and month (1-12) of an instant in Beijing time. */
export function beijingYearMonth(nowMs: number): { year: number; month: number } {
  const d = new Date(nowMs + CST_OFFSET_MS)
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1 }
}

/**
 * The current reporting period of a frequency as the server spells it: month `2026M03`,
 * quarter `2026Q1`, half year `2026H1`, year `2026`; the date is taken in Beijing time.
 */
export function currentPeriod(frequency: string | null | undefined, nowMs: number = Date.now()): string {
  const { year, month } = beijingYearMonth(nowMs)
  switch (frequency) {
    case 'quarter':
      return `${year}Q${Math.floor((month - 1) / 3) + 1}`
    case 'half':
    case 'halfyear':
      return `${year}H${month <= 6 ? 1 : 2}`
    case 'year':
      return String(year)
    case 'month':
    default:
      return `${year}M${String(month).padStart(2, '0')}`
  }
}

/** The period before `period` (same frequency); unknown shapes come back unchanged. */
export function previousPeriod(period: string): string {
  let m = /^(\d{4})M(\d{2})$/.exec(period)
  if (m) {
    const y = Number(m[1])
    const mo = Number(m[2])
    return mo === 1 ? `${y - 1}M12` : `${y}M${String(mo - 1).padStart(2, '0')}`
  }
  m = /^(\d{4})Q([1-4])$/.exec(period)
  if (m) {
    const y = Number(m[1])
    const q = Number(m[2])
    return q === 1 ? `${y - 1}Q4` : `${y}Q${q - 1}`
  }
  m = /^(\d{4})H([12])$/.exec(period)
  if (m) return m[2] === '1' ? `${Number(m[1]) - 1}H2` : `${m[1]}H1`
  m = /^(\d{4})$/.exec(period)
  if (m) return String(Number(m[1]) - 1)
  return period
}

/** The `n` most recent periods up to the current one, newest first (for period pickers). */
export function recentPeriods(frequency: string | null | undefined, n: number, nowMs: number = Date.now()): string[] {
  const out: string[] = []
  let p = currentPeriod(frequency, nowMs)
  for (let i = 0; i < n; i++) {
    out.push(p)
    const prev = previousPeriod(p)
    if (prev === p) break
    p = prev
  }
  return out
}
