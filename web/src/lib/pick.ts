/**
 * Picks the label for the locale from an object carrying `<base>` (Chinese) and `<base>_en`
 * (English): English when the locale is English and the English text is non-blank, else Chinese.
 */
export function pickText(obj: object | null | undefined, base: string, locale: string): string {
  if (!obj) return ''
  const rec = obj as Record<string, unknown>
  const zh = rec[base]
  const en = rec[`${base}_en`]
  if (locale.startsWith('en') && typeof en === 'string' && en.trim() !== '') return en
  if (typeof zh === 'string') return zh
  return typeof en === 'string' ? en : ''
}

/** The API error text for the locale. */
export function pickErrorMessage(err: { message: string; messageEn?: string }, locale: string): string {
  return locale.startsWith('en') && err.messageEn ? err.messageEn : err.message
}
