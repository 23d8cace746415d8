import { createApp } from 'vue'
import { createPinia } from 'pinia'
import * as elementComponents from './lib/element'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { router } from './router'
import { i18n } from './i18n'
import { configureClient } from './api/client'
import { useAuthStore } from './stores/auth'
import './style.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
for (const c of Object.values(elementComponents)) app.use(c)

const auth = useAuthStore(pinia)
configureClient({
  csrfToken: () => auth.csrfToken,
  onUnauthorized: () => {
    // The session expired: back to the login page.
    auth.clear()
    const here = router.currentRoute.value
    if (here.path !== '/login') void router.push({ path: '/login', query: { redirect: here.fullPath } })
  },
})

app.use(router)
app.mount('#app')
