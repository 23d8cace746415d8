import { createRouter, createWebHistory } from 'vue-router'
import { useAuthStore, landingPath } from './stores/auth'
import { releaseRights } from './api/releases'

export const router = createRouter({
  history: createWebHistory('/'),
  routes: [
    { path: '/', component: () => import('./views/NotFoundView.vue'), meta: { landing: true } },
    { path: '/login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
    { path: '/tasks', component: () => import('./views/report/TasksView.vue') },
    { path: '/report/:unit/:form/:period', component: () => import('./views/report/FormEntryView.vue'), props: true },
    {
      path: '/report/:unit/:form/:period/history',
      component: () => import('./views/report/HistoryView.vue'),
      props: true,
    },
    { path: '/console/units', component: () => import('./views/console/UnitsView.vue'), meta: { staff: true } },
    { path: '/console/monitor', component: () => import('./views/console/MonitorView.vue'), meta: { monitor: true } },
    { path: '/console/summary', component: () => import('./views/console/SummaryView.vue'), meta: { monitor: true } },
    { path: '/console/review', component: () => import('./views/console/ReviewQueueView.vue'), meta: { staff: true } },
    {
      path: '/console/review/:unit/:form/:period',
      component: () => import('./views/console/ReviewDetailView.vue'),
      props: true,
      meta: { staff: true },
    },
    { path: '/console/reminders', component: () => import('./views/console/RemindersView.vue'), meta: { staff: true } },
    { path: '/console/releases', component: () => import('./views/console/ReleasesView.vue'), meta: { releases: true } },
    { path: '/console/documents', component: () => import('./views/console/DocumentsView.vue'), meta: { releases: true } },
    { path: '/:pathMatch(.*)*', component: () => import('./views/NotFoundView.vue'), meta: { public: true } },
  ],
})

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  await auth.restore()
  if (to.path === '/login') return auth.loggedIn ? landingPath(auth.user) : true
  if (to.meta.landing) return landingPath(auth.user)
  if (to.meta.public) return true
  if (!auth.loggedIn) return { path: '/login', query: { redirect: to.fullPath } }
  if (to.meta.staff && !auth.isStaff) return landingPath(auth.user)
  if (to.meta.monitor && !auth.canMonitor) return landingPath(auth.user)
  if (to.meta.releases && !releaseRights(auth.user?.role).read) return landingPath(auth.user)
  return true
})
