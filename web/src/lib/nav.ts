import type { Role } from '../api/types'

/** Staff who work the console: monitor, review, directory, reminders. */
export const CONSOLE_ROLES: readonly Role[] = ['township', 'county', 'city', 'admin']
/** Roles that may open the monitoring dashboard (leaders see it, and only it). */
export const MONITOR_ROLES: readonly Role[] = ['township', 'county', 'city', 'leader', 'admin']

export interface NavItem {
  path: string
  /** i18n key of the label */
  label: string
  testid: string
}

const ITEMS: Record<string, NavItem> = {
  monitor: { path: '/console/monitor', label: 'nav.monitor', testid: 'nav-monitor' },
  summary: { path: '/console/summary', label: 'nav.summary', testid: 'nav-summary' },
  review: { path: '/console/review', label: 'nav.review', testid: 'nav-review' },
  units: { path: '/console/units', label: 'nav.units', testid: 'nav-units' },
  reminders: { path: '/console/reminders', label: 'nav.reminders', testid: 'nav-reminders' },
  releases: { path: '/console/releases', label: 'nav.releases', testid: 'nav-releases' },
  documents: { path: '/console/documents', label: 'nav.documents', testid: 'nav-documents' },
}

/** The console menu of a role: staff get every item, leaders the monitor and the summary tables, publishers the releases, others none. */
export function consoleNav(role: Role | null | undefined): NavItem[] {
  if (!role) return []
  // Releases and 政务公开: publishers work them; leader, city and admin read them.
  const publication = role === 'publisher' || role === 'leader' || role === 'city' || role === 'admin' ? [ITEMS.releases, ITEMS.documents] : []
  if (role === 'publisher') return publication
  if (role === 'leader') return [ITEMS.monitor, ITEMS.summary, ...publication]
  if (CONSOLE_ROLES.includes(role)) return [ITEMS.monitor, ITEMS.summary, ITEMS.review, ITEMS.units, ITEMS.reminders, ...publication]
  return []
}

/** The review action of a role's level (docs/api.md): township reviews, county approves, city/admin accept. */
export function reviewLevel(role: Role | null | undefined): 'review' | 'approve' | 'accept' | null {
  switch (role) {
    case 'township':
      return 'review'
    case 'county':
      return 'approve'
    case 'city':
    case 'admin':
      return 'accept'
    default:
      return null
  }
}

/** The state a submission waits in for the role's level. */
export function stateAwaiting(role: Role | null | undefined): string | null {
  switch (reviewLevel(role)) {
    case 'review':
      return 'submitted'
    case 'approve':
      return 'reviewed'
    case 'accept':
      return 'approved'
    default:
      return null
  }
}

/** States in which any level may return a submission. */
export const RETURNABLE_STATES: readonly string[] = ['submitted', 'reviewed', 'approved']
