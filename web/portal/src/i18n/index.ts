import zhCN from './zh-CN'
import en from './en'
import type { Lang } from '../lib/dataset'
import { makeI18n, readLocale, type UiLocale } from '../../../src/lib/locale'

export type PortalLocale = UiLocale
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
  return readLocale(storage, LOCALE_KEY)
}

export const { i18n, setLocale } = makeI18n(LOCALE_KEY, { 'zh-CN': zhCN, en })

/** The data language of a UI locale. */
export function langOf(locale: string): Lang {
  return locale === 'en' ? 'en' : 'zh'
}
