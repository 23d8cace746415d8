import zhCN from './zh-CN'
import en from './en'
import { makeI18n, readLocale, type UiLocale } from '../lib/locale'

export type AppLocale = UiLocale
export const LOCALE_KEY = 'statgov.locale'

export function storedLocale(storage: Pick<Storage, 'getItem'> | null | undefined): AppLocale {
  return readLocale(storage, LOCALE_KEY)
}

export const { i18n, setLocale } = makeI18n(LOCALE_KEY, { 'zh-CN': zhCN, en })
