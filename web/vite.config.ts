/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  base: '/',
  plugins: [vue()],
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/healthz': 'http://127.0.0.1:8080',
    },
  },
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 1200,
    rollupOptions: {
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
  test: {
    include: ['src/**/*.test.ts', 'portal/src/**/*.test.ts'],
    environment: 'node',
  },
})
