import type { AuthMethods } from '../api/types'

/**
 * What the login page offers beside the password form, from GET /auth/methods:
 * - `hidden`: staff log in with passwords only (mode `password`), or the answer is unknown;
 * - `ready`: mode `cert`, and the browser presented a valid certificate of the bureau's CA
 *   (`cn` is the login it will sign in as);
 * - otherwise the button shows, disabled, with the reason (`none`, `revoked`, `untrusted`).
 * In mode `password+cert` the certificate goes with the password form, so no button: the hint
 * alone tells a staff member whose browser presented nothing why the login will be refused.
 */
export type CertOffer =
  | { kind: 'hidden' }
  | { kind: 'ready'; cn: string }
  | { kind: 'blocked'; reason: 'none' | 'revoked' | 'untrusted' }
  | { kind: 'hint'; reason: 'none' | 'revoked' | 'untrusted' }

export function certOffer(m: AuthMethods | null | undefined): CertOffer {
  if (!m || m.staff === 'password') return { kind: 'hidden' }
  const state = m.certificate?.state ?? 'none'
  if (m.staff === 'cert') {
    if (state === 'verified' && m.certificate.cn) return { kind: 'ready', cn: m.certificate.cn }
    return { kind: 'blocked', reason: state === 'verified' ? 'none' : state }
  }
  // password+cert
  if (state === 'verified') return { kind: 'hidden' }
  return { kind: 'hint', reason: state }
}
