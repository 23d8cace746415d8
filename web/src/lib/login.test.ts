import { describe, expect, it } from 'vitest'
import { certOffer } from './login'

describe('certOffer', () => {
  it('offers nothing in password mode or when the server did not answer', () => {
    expect(certOffer(null)).toEqual({ kind: 'hidden' })
    expect(certOffer({ staff: 'password', certificate: { state: 'verified', cn: 'demo-shi' } })).toEqual({
      kind: 'hidden',
    })
  })
  it('offers the certificate login in cert mode when the browser presented a valid certificate', () => {
    expect(certOffer({ staff: 'cert', certificate: { state: 'verified', cn: 'demo-shi' } })).toEqual({
      kind: 'ready',
      cn: 'demo-shi',
    })
  })
  it('says why the certificate login cannot work', () => {
    expect(certOffer({ staff: 'cert', certificate: { state: 'none' } })).toEqual({ kind: 'blocked', reason: 'none' })
    expect(certOffer({ staff: 'cert', certificate: { state: 'revoked' } })).toEqual({
      kind: 'blocked',
      reason: 'revoked',
    })
    expect(certOffer({ staff: 'cert', certificate: { state: 'untrusted' } })).toEqual({
      kind: 'blocked',
      reason: 'untrusted',
    })
  })
  it('in password+cert mode only hints when the certificate is missing or bad', () => {
    expect(certOffer({ staff: 'password+cert', certificate: { state: 'verified', cn: 'x' } })).toEqual({
      kind: 'hidden',
    })
    expect(certOffer({ staff: 'password+cert', certificate: { state: 'none' } })).toEqual({
      kind: 'hint',
      reason: 'none',
    })
  })
})
