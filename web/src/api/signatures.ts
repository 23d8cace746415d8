// API calls for e-signatures and the TOTP second factor (issue #7; docs/signatures.md).
import { request, submissionPath } from './client'
import type { AuthAnswer, Submission, Values } from './types'

export interface UnitKey {
  key_id: string
  unit_id: number
  public_key: string
  label: string
  created_at: string
  created_by: string
  revoked_at: string | null
  revoked_by: string | null
}

export type SignatureState = 'valid' | 'not_signed' | 'invalid'

export interface SignatureStatus {
  submission_id: number
  version: number
  status: SignatureState
  signed: boolean
  valid: boolean
  signed_versions: number[]
  key_id?: string
  key_label?: string
  key_revoked_at?: string | null
  signed_at?: string
  signed_by?: string
  reason?: { code: string; message: string; message_en: string }
}

export interface TotpStatus {
  enabled: boolean
  pending: boolean
  available: boolean
}

const keysPath = (unit: number | string) => `/units/${encodeURIComponent(String(unit))}/keys`

export const signaturesApi = {
  keys(unit: number | string): Promise<{ items: UnitKey[] }> {
    return request('GET', keysPath(unit))
  },
  registerKey(unit: number | string, publicKey: string, label: string): Promise<UnitKey> {
    return request('POST', keysPath(unit), { json: { public_key: publicKey, label } })
  },
  revokeKey(unit: number | string, keyId: string): Promise<UnitKey> {
    return request('DELETE', keysPath(unit) + '/' + encodeURIComponent(keyId))
  },
  status(submissionId: number): Promise<SignatureStatus> {
    return request('GET', `/submissions/${submissionId}/signature`)
  },
  /** Submit with an e-signature: the body of api.submit plus {signature, key_id}. */
  submitSigned(
    unit: number | string,
    form: string,
    period: string,
    values: Values,
    explanations: Record<string, string>,
    idempotencyKey: string,
    signed: { signature: string; key_id: string },
  ): Promise<Submission> {
    return request('POST', submissionPath(unit, form, period) + '/submit', {
      json: { values, explanations, signature: signed.signature, key_id: signed.key_id },
      headers: { 'Idempotency-Key': idempotencyKey },
    })
  },
  /** Login with the one-time code of an account with a second factor. */
  loginWithTotp(login: string, password: string, totp: string): Promise<AuthAnswer> {
    return request('POST', '/auth/login', { json: { login, password, totp }, quiet401: true })
  },
  totp(): Promise<TotpStatus> {
    return request('GET', '/me/totp')
  },
  enrolTotp(): Promise<{ secret: string; otpauth_uri: string }> {
    return request('POST', '/me/totp')
  },
  confirmTotp(code: string): Promise<{ enabled: boolean }> {
    return request('POST', '/me/totp/confirm', { json: { code } })
  },
  disableTotp(code: string): Promise<{ enabled: boolean }> {
    return request('POST', '/me/totp/disable', { json: { code } })
  },
}
