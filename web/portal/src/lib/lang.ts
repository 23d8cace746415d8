import { computed, type ComputedRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { langOf } from '../i18n'
import type { Lang } from './dataset'

/** The data language (zh|en) following the UI locale. */
export function useLang(): ComputedRef<Lang> {
  const { locale } = useI18n()
  return computed(() => langOf(locale.value))
}
