import {readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {checkBundle, haproxyPem, pemBlocks, sanCovers, splitPkcs12Pem, uncoveredNames} from '../../../src/tls/certificate.js'
import {CertLab, type Made} from '../../helpers/certs.js'
import {refusalOf} from '../../helpers/errors.js'

describe('checkBundle (SPEC §9)', () => {
  let lab: CertLab
  let rsa: Made
  let ec: Made

  beforeAll(() => {
    lab = new CertLab()
    rsa = lab.issue('rsa', {sans: ['shop.example.test', 'www.shop.example.test'], key: 'rsa2048'})
    ec = lab.issue('ec', {sans: ['*.blog.example.test'], key: 'ec384'})
  })
  afterAll(() => lab.cleanup())

  it('accepts an RSA-2048 leaf with its intermediate and reports its facts', () => {
    const checked = checkBundle({certText: rsa.cert, keyText: rsa.key, chainText: lab.chain})
    expect(checked.facts).toMatchObject({
      subject: 'CN=shop.example.test',
      issuer: 'CN=Lab Intermediate CA',
      sans: ['shop.example.test', 'www.shop.example.test'],
      key_type: 'RSA-2048',
    })
    expect(checked.facts.fingerprint_sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(checked.warnings).toEqual([])
    expect(haproxyPem(checked.material)).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+-----BEGIN CERTIFICATE-----\n[\s\S]+-----BEGIN PRIVATE KEY-----\n/)
  })

  it('accepts EC P-384 and a fullchain file (leaf then intermediate in --cert)', () => {
    const checked = checkBundle({certText: ec.cert + lab.chain, keyText: ec.key})
    expect(checked.facts.key_type).toBe('EC-P-384')
    expect(checked.material.chain_pem).toContain('BEGIN CERTIFICATE')
  })

  it('refuses a key that does not match the certificate', () => {
    const error = refusalOf(() => checkBundle({certText: rsa.cert, keyText: ec.key, chainText: lab.chain}))
    expect(error.code).toBe('invalid_key')
    expect(error.message).toContain('does not match')
  })

  it('refuses a chain in the wrong order, naming the order to use', () => {
    const error = refusalOf(() => checkBundle({certText: rsa.cert, keyText: rsa.key, chainText: lab.ca.cert + lab.chain}))
    expect(error.code).toBe('invalid_chain')
    expect(error.suggestion).toContain('leaf towards the root')
  })

  it('accepts the full chain up to the root in order', () => {
    expect(checkBundle({certText: rsa.cert, keyText: rsa.key, chainText: lab.chain + lab.ca.cert}).facts.key_type).toBe('RSA-2048')
  })

  it('refuses an expired certificate', () => {
    const expired = lab.issue('expired', {days: -1})
    const error = refusalOf(() => checkBundle({certText: expired.cert, keyText: expired.key, chainText: lab.chain}))
    expect(error.code).toBe('invalid_cert')
    expect(error.message).toContain('expired')
  })

  it('warns (does not refuse) under 30 days to expiry', () => {
    const soon = lab.issue('soon', {days: 10})
    const checked = checkBundle({certText: soon.cert, keyText: soon.key, chainText: lab.chain})
    expect(checked.warnings.join('\n')).toMatch(/expires in \d+ days/)
  })

  it('refuses RSA-1024 and EC P-521 keys', () => {
    const weak = lab.issue('weak', {key: 'rsa1024'})
    expect(refusalOf(() => checkBundle({certText: weak.cert, keyText: weak.key})).message).toContain('at least 2048')
    const p521 = lab.issue('p521', {key: 'ec521'})
    expect(refusalOf(() => checkBundle({certText: p521.cert, keyText: p521.key})).message).toContain('P-256 or P-384')
  })

  it('refuses an encrypted PEM key and names --pkcs12 --passphrase-file as the way out', () => {
    const encrypted = readFileSync(lab.encryptedKey(rsa), 'utf8')
    const error = refusalOf(() => checkBundle({certText: rsa.cert, keyText: encrypted}))
    expect(error.code).toBe('invalid_key')
    expect(error.message).toContain('encrypted')
    expect(error.message).toContain('--pkcs12 FILE --passphrase-file FILE')
  })

  it('refuses files that hold no certificate or no key, and never echoes key material', () => {
    expect(refusalOf(() => checkBundle({certText: 'hello', keyText: rsa.key})).code).toBe('invalid_cert')
    const error = refusalOf(() => checkBundle({certText: rsa.key, keyText: rsa.key}))
    expect(error.code).toBe('invalid_cert')
    const keyBody = rsa.key.split('\n')[1]
    for (const attempt of [() => checkBundle({certText: rsa.cert, keyText: ec.key}), () => checkBundle({certText: rsa.key, keyText: rsa.key})]) {
      const refused = refusalOf(attempt)
      expect(`${refused.message} ${refused.suggestion ?? ''}`).not.toContain(keyBody)
    }
  })

  it('splits openssl pkcs12 output into leaf, ordered chain and key', () => {
    const text = `${lab.ca.cert}${rsa.key}${lab.chain}${rsa.cert}`
    const parts = splitPkcs12Pem(text)
    expect(parts.certText).toBe(checkBundle({certText: rsa.cert, keyText: rsa.key}).material.cert_pem)
    expect(checkBundle({certText: parts.certText, keyText: parts.keyText, chainText: parts.chainText}).facts.sans).toContain('shop.example.test')
    const normalised = (pem: string) => pemBlocks(pem)[0].text
    expect(parts.chainText).toBe(normalised(lab.chain) + normalised(lab.ca.cert))
  })
})

describe('SAN coverage', () => {
  it('matches exact names and one-label wildcards only', () => {
    expect(sanCovers('*.example.test', 'a.example.test')).toBe(true)
    expect(sanCovers('*.example.test', 'a.b.example.test')).toBe(false)
    expect(sanCovers('*.example.test', 'example.test')).toBe(false)
    expect(sanCovers('shop.example.test', 'SHOP.example.test')).toBe(true)
    expect(uncoveredNames(['shop.example.test', '*.cdn.test'], ['shop.example.test', 'x.cdn.test', 'other.test'])).toEqual(['other.test'])
  })
})
