import { describe, expect, it } from 'vitest'
import { canonicalJson, generateKeyPair, loadPrivateKey, signSubmission, submissionPayload } from './signing'

describe('canonicalJson (RFC 8785)', () => {
  it('matches the server on the documented example (docs/signatures.md, security_cli_test)', () => {
    const p = JSON.parse(
      '{"version": 2, "values": {"I03": 9.0, "I01": 10.50}, "unit_uscc": "91430200MA4L000001", "period": "2026M11", "form": "B204-1"}',
    )
    expect(submissionPayload(p)).toBe(
      '{"form":"B204-1","period":"2026M11","unit_uscc":"91430200MA4L000001","values":{"I01":10.5,"I03":9},"version":2}',
    )
  })
  it('sorts keys by UTF-16 code units and writes numbers and strings like the C++ side', () => {
    expect(canonicalJson(JSON.parse('{"b":[1.0,2.50,"x"],"a":{"z":null,"y":true},"é":"\\u0001\\n\\"中","A":1e3}'))).toBe(
      '{"A":1000,"a":{"y":true,"z":null},"b":[1,2.5,"x"],"é":"\\u0001\\n\\"中"}',
    )
    expect(canonicalJson({ '\uff21': 1, '\ud83d\ude00': 2 })).toBe('{"\ud83d\ude00":2,"\uff21":1}')
    expect(canonicalJson([1e21, 1e20, 0.000001, 1.5e-7, -0, 0.1 + 0.2])).toBe(
      '[1e+21,100000000000000000000,0.000001,1.5e-7,0,0.30000000000000004]',
    )
    expect(() => canonicalJson(NaN)).toThrow()
  })
})

describe('Ed25519 keys', () => {
  it('generates, reloads from the JWK file and signs verifiably', async () => {
    let pair
    try {
      pair = await generateKeyPair()
    } catch {
      return // this runtime has no WebCrypto Ed25519
    }
    expect(pair.keyId).toMatch(/^[0-9a-f]{16}$/)
    const key = await loadPrivateKey(JSON.stringify(pair.jwk))
    expect(key.keyId).toBe(pair.keyId)
    const input = { form: 'B204-1', period: '2026M11', unit_uscc: 'X', values: { I01: 1 }, version: 1 }
    const s = await signSubmission(key, input)
    expect(s.key_id).toBe(pair.keyId)
    const pub = await crypto.subtle.importKey(
      'raw',
      Uint8Array.from(atob(pair.publicKey), (c) => c.charCodeAt(0)),
      { name: 'Ed25519' },
      false,
      ['verify'],
    )
    const sig = Uint8Array.from(atob(s.signature), (c) => c.charCodeAt(0))
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, pub, sig, new TextEncoder().encode(submissionPayload(input)))
    expect(ok).toBe(true)
    await expect(loadPrivateKey('{"kty":"RSA"}')).rejects.toThrow()
  })
})
