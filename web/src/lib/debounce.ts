/**
 * Trailing debounce: `fn` runs once, `ms` after the last call. `flush` runs a pending call at once,
 * `cancel` drops it. Timers are injectable for tests.
 */
export function debounce(
  fn: () => void,
  ms: number,
  timers: { set: (f: () => void, ms: number) => unknown; clear: (h: unknown) => void } = {
    set: (f, t) => setTimeout(f, t),
    clear: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  },
): { call: () => void; cancel: () => void; flush: () => void; pending: () => boolean } {
  let handle: unknown = null
  const run = () => {
    handle = null
    fn()
  }
  return {
    call() {
      if (handle !== null) timers.clear(handle)
      handle = timers.set(run, ms)
    },
    cancel() {
      if (handle !== null) timers.clear(handle)
      handle = null
    },
    flush() {
      if (handle !== null) {
        timers.clear(handle)
        run()
      }
    },
    pending: () => handle !== null,
  }
}

/** Parses the data of an `event: submission` server-sent event; null when it is not a JSON object. */
export function parseSubmissionEvent(data: string): Record<string, unknown> | null {
  try {
    const v = JSON.parse(data) as unknown
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null
  } catch {
    return null
  }
}

/**
 * Whether a submission event concerns the dashboard's form and period (events without form/period
 * count as relevant: refetching is cheap, missing an update is not).
 */
export function eventConcerns(ev: Record<string, unknown> | null, form: string, period: string): boolean {
  if (!ev) return true
  if (typeof ev.form === 'string' && ev.form !== form) return false
  if (typeof ev.period === 'string' && ev.period !== period) return false
  return true
}
