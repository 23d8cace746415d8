import { defineStore } from 'pinia'
import { api, ApiError } from '../api/client'
import type { Role, User } from '../api/types'
import { MONITOR_ROLES } from '../lib/nav'

export const STAFF_ROLES: readonly Role[] = ['township', 'county', 'city', 'admin']

/** Where a user lands after login: enterprises on their tasks, staff and leaders on the dashboard. */
export function landingPath(user: User | null): string {
  if (!user) return '/login'
  if (user.role === 'enterprise') return '/tasks'
  if (user.role === 'publisher') return '/console/releases'
  if (MONITOR_ROLES.includes(user.role)) return '/console/monitor'
  return '/console/units'
}

export const useAuthStore = defineStore('auth', {
  state: () => ({
    user: null as User | null,
    csrfToken: null as string | null,
    restored: false,
  }),
  getters: {
    loggedIn: (s) => s.user !== null,
    isStaff: (s) => s.user !== null && STAFF_ROLES.includes(s.user.role),
    canMonitor: (s) => s.user !== null && MONITOR_ROLES.includes(s.user.role),
  },
  actions: {
    async login(login: string, password: string) {
      const a = await api.login(login, password)
      this.user = a.user
      this.csrfToken = a.csrf_token
      this.restored = true
    },
    /** GET /me once: restores a session from the cookie; 401 means not logged in. */
    async restore() {
      if (this.restored) return
      try {
        const a = await api.me()
        this.user = a.user
        this.csrfToken = a.csrf_token
      } catch (e) {
        if (!(e instanceof ApiError && e.status === 401)) console.warn('GET /me failed', e)
        this.user = null
        this.csrfToken = null
      } finally {
        this.restored = true
      }
    },
    async logout() {
      try {
        await api.logout()
      } catch {
        /* the session is dropped locally anyway */
      }
      this.clear()
    },
    clear() {
      this.user = null
      this.csrfToken = null
      this.restored = true
    },
  },
})
