import type { RuleResult } from '../api/types'

/** Maps each indicator code to the failed rules that name it, errors first, in result order. */
export function resultsByIndicator(results: readonly RuleResult[]): Record<string, RuleResult[]> {
  const out: Record<string, RuleResult[]> = {}
  for (const r of results) {
    for (const code of new Set(r.indicators ?? [])) {
      ;(out[code] ??= []).push(r)
    }
  }
  for (const list of Object.values(out)) {
    list.sort((a, b) => severityRank(a.severity) - severityRank(b.severity))
  }
  return out
}

function severityRank(s: string): number {
  return s === 'error' ? 0 : 1
}

export function errorResults(results: readonly RuleResult[]): RuleResult[] {
  return results.filter((r) => r.severity === 'error')
}

export function warningResults(results: readonly RuleResult[]): RuleResult[] {
  return results.filter((r) => r.severity === 'warning')
}

/** Names of warning rules that still lack a non-blank explanation. */
export function missingExplanations(results: readonly RuleResult[], explanations: Record<string, string>): string[] {
  return warningResults(results)
    .map((r) => r.rule)
    .filter((name) => !(explanations[name] ?? '').trim())
}

/** True when the form may be submitted: no error result and every warning explained. */
export function canSubmit(results: readonly RuleResult[], explanations: Record<string, string>): boolean {
  return errorResults(results).length === 0 && missingExplanations(results, explanations).length === 0
}

/** The explanations to send: only for the current warnings, trimmed, non-blank. */
export function explanationsPayload(
  results: readonly RuleResult[],
  explanations: Record<string, string>,
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const r of warningResults(results)) {
    const t = (explanations[r.rule] ?? '').trim()
    if (t) out[r.rule] = t
  }
  return out
}
