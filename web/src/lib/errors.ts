import { ApiError, NetworkError } from '../api/client'

/** Any thrown value as an ApiError (network failures get the code NETWORK). */
export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e
  if (e instanceof NetworkError) return new ApiError(0, 'NETWORK', '网络错误，请检查网络后重试', 'Network error, please retry')
  return new ApiError(0, 'CLIENT', String(e), String(e))
}
