// One locale set-up for both web apps (the console and the public portal): Simplified Chinese
// first, English second, the choice kept in localStorage under the app's own key.
import { createI18n, type VueMessageType } from 'vue-i18n'
import type { LocaleMessage } from '@intlify/core-base'

export type UiLocale = 'zh-CN' | 'en'

/** The stored choice; Chinese unless 'en' is stored (also when storage is absent or throws). */
export function readLocale(storage: Pick<Storage, 'getItem'> | null | undefined, key: string): UiLocale {
  try {
    return storage?.getItem(key) === 'en' ? 'en' : 'zh-CN'
  } catch {
    return 'zh-CN'
  }
}

/** A vue-i18n instance for an app with these messages, and the setter that also stores the choice. */
export function makeI18n<M extends LocaleMessage<VueMessageType>>(key: string, messages: { 'zh-CN': M; en: M }) {
  const i18n = createI18n({
    legacy: false,
    locale: readLocale(typeof localStorage === 'undefined' ? null : localStorage, key),
    fallbackLocale: 'zh-CN',
    messages,
  })
  function setLocale(l: UiLocale): void {
    i18n.global.locale.value = l
    try {
      localStorage.setItem(key, l)
    } catch {
      /* private mode */
    }
    document.documentElement.lang = l
  }
  return { i18n, setLocale }
}
