import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'

export type AppLocale = 'zh-CN' | 'en'
export const LOCALE_KEY = 'statgov.locale'

export function storedLocale(storage: Pick<Storage, 'getItem'> | null | undefined): AppLocale {
  try {
    return storage?.getItem(LOCALE_KEY) === 'en' ? 'en' : 'zh-CN'
  } catch {
    return 'zh-CN'
  }
}

export const i18n = createI18n({
  legacy: false,
  locale: storedLocale(typeof localStorage === 'undefined' ? null : localStorage),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})

export function setLocale(l: AppLocale): void {
  i18n.global.locale.value = l
  try {
    localStorage.setItem(LOCALE_KEY, l)
  } catch {
    /* private mode */
  }
  document.documentElement.lang = l
}
