// E-signatures (电子签章) in the browser: the canonical form a submission's signature covers
// (RFC 8785 JCS, docs/signatures.md) and Ed25519 keys through WebCrypto. The server re-checks
// every signature; nothing here is trusted by it.

/** RFC 8785 canonical JSON: no spaces, keys sorted by UTF-16 code units, numbers and strings as JSON.stringify. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']'
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    const keys = Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}'
  }
  if (typeof v === 'number' && !Number.isFinite(v)) throw new Error('canonical JSON: numbers must be finite')
  return JSON.stringify(v)
}

export interface SubmissionSigningInput {
  form: string
  period: string
  unit_uscc: string
  values: Record<string, unknown>
  /** The submission version this submit creates: the current version + 1. */
  version: number
}

/** The exact string whose UTF-8 bytes are signed. */
export function submissionPayload(p: SubmissionSigningInput): string {
  return canonicalJson({ form: p.form, period: p.period, unit_uscc: p.unit_uscc, values: p.values, version: p.version })
}

export function bytesToBase64(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s)
}

function base64UrlToBytes(s: string): Uint8Array {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4)
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

/** Key id: the first 16 hex digits of SHA-256 over the raw 32-byte public key. */
export async function keyIdOf(publicRaw: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', publicRaw as BufferSource))
  return Array.from(digest.slice(0, 8), (b) => b.toString(16).padStart(2, '0')).join('')
}

/** A private key loaded from the enterprise's key file, ready to sign. */
export interface LoadedKey {
  keyId: string
  publicKey: string // base64 of the raw 32 bytes
  privateKey: CryptoKey
}

export interface Ed25519Jwk {
  kty: 'OKP'
  crv: 'Ed25519'
  d?: string
  x: string
}

/** Is WebCrypto Ed25519 available in this browser? */
export async function ed25519Supported(): Promise<boolean> {
  try {
    await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify'])
    return true
  } catch {
    return false
  }
}

/** A new key pair: the private key as a JWK (the file the enterprise keeps) and the public key to register. */
export async function generateKeyPair(): Promise<{ jwk: Ed25519Jwk; publicKey: string; keyId: string }> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair
  const jwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as Ed25519Jwk
  const raw = new Uint8Array(await crypto.subtle.exportKey('raw', pair.publicKey))
  return { jwk: { kty: 'OKP', crv: 'Ed25519', d: jwk.d, x: jwk.x }, publicKey: bytesToBase64(raw), keyId: await keyIdOf(raw) }
}

/** Reads a private key file as written by generateKeyPair or `statgov sign keygen` (JWK). */
export async function loadPrivateKey(fileText: string): Promise<LoadedKey> {
  let jwk: Ed25519Jwk
  try {
    jwk = JSON.parse(fileText) as Ed25519Jwk
  } catch {
    throw new Error('not a JWK file')
  }
  if (!jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.d !== 'string' || typeof jwk.x !== 'string') {
    throw new Error('not an Ed25519 private key (JWK with d and x)')
  }
  const privateKey = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', d: jwk.d, x: jwk.x }, { name: 'Ed25519' }, false, [
    'sign',
  ])
  const raw = base64UrlToBytes(jwk.x)
  return { keyId: await keyIdOf(raw), publicKey: bytesToBase64(raw), privateKey }
}

/** Signs the canonical form; returns {signature, key_id} to add to the submit body. */
export async function signSubmission(key: LoadedKey, p: SubmissionSigningInput): Promise<{ signature: string; key_id: string }> {
  const bytes = new TextEncoder().encode(submissionPayload(p))
  const sig = new Uint8Array(await crypto.subtle.sign({ name: 'Ed25519' }, key.privateKey, bytes as BufferSource))
  return { signature: bytesToBase64(sig), key_id: key.keyId }
}
