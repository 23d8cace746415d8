import type { Indicator, Values } from '../api/types'

/** Raw text of every input, keyed by indicator code. */
export type InputTexts = Record<string, string>

const NUMBER_RE = /^-?(\d+(\.\d*)?|\.\d+)$/

/** Parses one numeric input; blank or malformed gives undefined (missing), never 0. */
export function parseNumber(text: string | undefined | null): number | undefined {
  if (text === undefined || text === null) return undefined
  const t = String(text).replace(/[,，\s]/g, '')
  if (t === '' || !NUMBER_RE.test(t)) return undefined
  const n = Number(t)
  return Number.isFinite(n) ? n : undefined
}

/**
 * Builds the `values` object of validate/draft/submit: only non-empty values; numbers for numeric
 * indicators, strings for text ones. An empty input is a missing value, not 0.
 */
export function buildValuesPayload(texts: InputTexts, indicators: readonly Indicator[]): Values {
  const types = new Map(indicators.map((i) => [i.code, i.type]))
  const out: Values = {}
  for (const [code, raw] of Object.entries(texts)) {
    const type = types.get(code)
    if (type === undefined) continue
    if (type === 'text') {
      const t = (raw ?? '').trim()
      if (t) out[code] = t
      continue
    }
    const n = parseNumber(raw)
    if (n !== undefined) out[code] = type === 'integer' ? Math.trunc(n) : n
  }
  return out
}

/** The inverse: server values to input texts (absent/null -> ''). */
export function valuesToTexts(values: Values | null | undefined, indicators: readonly Indicator[]): InputTexts {
  const out: InputTexts = {}
  for (const i of indicators) {
    const v = values?.[i.code]
    out[i.code] = v === undefined || v === null ? '' : String(v)
  }
  return out
}

/**
 * Keeps what the user types a valid partial number: digits, at most one '.', at most `decimals`
 * fraction digits (0 or integer type: none), a leading '-' only when negatives are allowed.
 */
export function sanitizeNumeric(text: string, decimals: number | null | undefined, allowNegative: boolean): string {
  let s = text.replace(/[，,\s]/g, '').replace(/[^\d.-]/g, '')
  const neg = allowNegative && s.startsWith('-')
  s = s.replace(/-/g, '')
  const dot = s.indexOf('.')
  const maxDec = decimals === null || decimals === undefined ? Infinity : Math.max(0, decimals)
  if (dot >= 0) {
    const intPart = s.slice(0, dot)
    let frac = s.slice(dot + 1).replace(/\./g, '')
    if (maxDec === 0) return (neg ? '-' : '') + intPart
    if (frac.length > maxDec) frac = frac.slice(0, maxDec)
    s = `${intPart}.${frac}`
  }
  return (neg ? '-' : '') + s
}

/** Formats a reference number for display with the indicator's decimals. */
export function formatNumber(v: number | string | null | undefined, decimals?: number | null): string {
  if (v === null || v === undefined || v === '') return ''
  if (typeof v === 'string') return v
  if (decimals === null || decimals === undefined) return String(v)
  return v.toFixed(decimals)
}
