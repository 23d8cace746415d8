import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'
import type { Lang } from '../lib/dataset'

export type PortalLocale = 'zh-CN' | 'en'
export const LOCALE_KEY = 'statgov.portal.locale'

/** ?lang=zh|en (also zh-CN, en-US...) to a locale, or null when absent or unknown. */
export function localeFromQuery(v: unknown): PortalLocale | null {
  const s = (Array.isArray(v) ? v[0] : v) as string | null | undefined
  if (typeof s !== 'string') return null
  const l = s.toLowerCase()
  if (l === 'en' || l.startsWith('en-')) return 'en'
  if (l === 'zh' || l.startsWith('zh-')) return 'zh-CN'
  return null
}

export function storedLocale(storage: Pick<Storage, 'getItem'> | null | undefined): PortalLocale {
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

export function setLocale(l: PortalLocale): void {
  i18n.global.locale.value = l
  try {
    localStorage.setItem(LOCALE_KEY, l)
  } catch {
    /* private mode */
  }
  document.documentElement.lang = l
}

/** The data language of a UI locale. */
export function langOf(locale: string): Lang {
  return locale === 'en' ? 'en' : 'zh'
}
