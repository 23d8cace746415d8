// The public portal (docs/publication.md section 4): a second Vite app in this package, built into
// dist-portal/ and carried as site/ in a signed release package. Same chunk split as the console.
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import type { Plugin } from 'vite'

const portal = 'http://127.0.0.1:8081'

/** The entry is portal.html (index.html is the console's); the portal serves it as index.html. */
function entryAsIndex(): Plugin {
  return {
    name: 'portal-entry-as-index',
    enforce: 'post',
    generateBundle(_options, bundle) {
      const page = bundle['portal.html']
      if (page) {
        page.fileName = 'index.html'
      }
    },
  }
}

export default defineConfig({
  base: '/',
  plugins: [vue(), entryAsIndex()],
  server: {
    proxy: {
      '/api': portal,
      '/rest': portal,
      '/healthz': portal,
    },
  },
  build: {
    outDir: 'dist-portal',
    emptyOutDir: true,
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
      input: 'portal.html',
      output: {
        manualChunks(id: string) {
          if (id.includes('node_modules')) {
            if (/[\\/](echarts|zrender)[\\/]/.test(id)) return 'echarts'
            if (id.includes('element-plus') || id.includes('@element-plus')) return 'element-plus'
            if (id.includes('vue-i18n') || id.includes('@intlify')) return 'i18n'
            return 'vendor'
          }
        },
      },
    },
  },
})
