import type { SubmissionEvent, SubmissionState } from '../api/types'

/** Element Plus tag type (colour) of each state. */
export function stateTagType(state: string): 'info' | 'warning' | 'primary' | 'danger' | 'success' {
  switch (state as SubmissionState) {
    case 'draft':
      return 'warning'
    case 'submitted':
      return 'primary'
    case 'returned':
      return 'danger'
    case 'reviewed':
    case 'approved':
    case 'accepted':
      return 'success'
    default:
      return 'info'
  }
}

/** The reporter may edit the form in these states. */
export const EDITABLE_STATES: readonly string[] = ['not_started', 'draft', 'returned']

export function isEditable(state: string | null | undefined): boolean {
  return EDITABLE_STATES.includes(state ?? 'not_started')
}

/**
 * The latest event with the action (by time; among equal times the later in the list), or null.
 * Used for the reason of the last 退回 shown to the enterprise.
 */
export function latestEvent(events: readonly SubmissionEvent[], action: string): SubmissionEvent | null {
  let best: SubmissionEvent | null = null
  for (const e of events) {
    if (e.action !== action) continue
    if (!best || Date.parse(e.at) >= Date.parse(best.at) || Number.isNaN(Date.parse(e.at))) best = e
  }
  return best
}
