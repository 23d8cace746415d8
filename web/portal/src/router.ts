import { createRouter, createWebHistory } from 'vue-router'
import { i18n, localeFromQuery, setLocale } from './i18n'

export const router = createRouter({
  history: createWebHistory('/'),
  scrollBehavior: () => ({ top: 0 }),
  routes: [
    { path: '/', component: () => import('./views/HomeView.vue') },
    { path: '/calendar', component: () => import('./views/CalendarView.vue') },
    { path: '/datasets/:id', component: () => import('./views/DatasetView.vue'), props: true },
    { path: '/documents', component: () => import('./views/DocumentsView.vue') },
    { path: '/documents/:indexNo', component: () => import('./views/DocumentView.vue'), props: true },
    { path: '/:pathMatch(.*)*', component: () => import('./views/NotFoundView.vue') },
  ],
})

// ?lang=zh|en picks the language and is remembered for the next visit.
router.beforeEach((to) => {
  const l = localeFromQuery(to.query.lang)
  if (l && l !== i18n.global.locale.value) setLocale(l)
  return true
})
