// The public portal (docs/publication.md section 4). Served by `statgov portal` from the site/ of
// the latest signed package; talks only to the portal's public API.
import { createApp } from 'vue'
import { ElButton, ElConfigProvider, ElEmpty, ElInput, ElOption, ElSelect, ElTag, ElLoading } from 'element-plus'
import 'element-plus/dist/index.css'
import App from './App.vue'
import { router } from './router'
import { i18n } from './i18n'
import './style.css'

const app = createApp(App)
app.use(i18n)
for (const c of [ElButton, ElConfigProvider, ElEmpty, ElInput, ElOption, ElSelect, ElTag]) app.use(c)
app.use(ElLoading)
app.use(router)
app.mount('#app')
