import type { SubmissionState } from '../api/types'

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
