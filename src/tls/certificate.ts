/**
 * Certificate checks of SPEC §9 with Node's `crypto`: the leaf parses, the key matches it,
 * the chain leads from the leaf towards its root, the key is RSA ≥ 2048 bits or EC
 * P-256/P-384, and the leaf has not expired. Pure (no I/O): callers read files, and
 * PKCS#12 bundles are turned into PEM by `host/openssl.ts` first.
 *
 * Contract: `checkBundle` returns the normalised material and what an operator should be
 * told, or throws ValidationError (`invalid_cert`, `invalid_key`, `invalid_chain`). Error
 * messages never contain key material.
 */
import {createHash, createPrivateKey, X509Certificate, type KeyObject} from 'node:crypto'

import {ValidationError} from '../domain/errors.js'

export const EXPIRY_WARNING_DAYS = 30
const DAY_MS = 86_400_000

export interface CertificateFacts {
  subject: string
  sans: string[]
  issuer: string
  not_before: string
  not_after: string
  fingerprint_sha256: string
  key_type: string
}

/** Leaf, chain (issuer first) and key, each as normalised PEM ending in a newline. */
export interface CertificateMaterial {
  cert_pem: string
  chain_pem: string
  key_pem: string
}

export interface CheckedBundle {
  material: CertificateMaterial
  facts: CertificateFacts
  warnings: string[]
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g

interface PemBlock {
  label: string
  text: string
}

/** Every PEM block of `text`, normalised (LF line ends, no blank lines, final newline). */
export function pemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = []
  for (const match of text.matchAll(PEM_BLOCK)) {
    const body = match[2].replace(/\r/g, '').split('\n').map((line) => line.trim()).filter((line) => line.length > 0)
    blocks.push({label: match[1], text: `-----BEGIN ${match[1]}-----\n${body.join('\n')}\n-----END ${match[1]}-----\n`})
  }
  return blocks
}

function certificates(field: 'cert' | 'chain', text: string): {pem: string; x509: X509Certificate}[] {
  const blocks = pemBlocks(text)
  const others = blocks.filter((block) => block.label !== 'CERTIFICATE')
  if (others.some((block) => block.label.includes('PRIVATE KEY'))) {
    throw new ValidationError(field, `the ${field} file holds a private key; give the key with --key`)
  }
  return blocks
    .filter((block) => block.label === 'CERTIFICATE')
    .map((block, index) => {
      try {
        return {pem: block.text, x509: new X509Certificate(block.text)}
      } catch {
        throw new ValidationError(field, `certificate ${index + 1} of the ${field} does not parse as X.509`)
      }
    })
}

function privateKey(text: string): KeyObject {
  const blocks = pemBlocks(text).filter((block) => block.label.includes('PRIVATE KEY'))
  if (blocks.length === 0) throw new ValidationError('key', 'the key file holds no PEM private key (-----BEGIN PRIVATE KEY-----)')
  if (blocks.length > 1) throw new ValidationError('key', 'the key file holds more than one private key')
  const block = blocks[0]
  const encrypted = block.label === 'ENCRYPTED PRIVATE KEY' || /^Proc-Type: 4,ENCRYPTED/m.test(block.text)
  const refuseEncrypted = () =>
    new ValidationError(
      'key',
      'the private key is encrypted (passphrase-protected), and lbaas takes no passphrase for PEM keys: give a PKCS#12 bundle instead, --pkcs12 FILE --passphrase-file FILE',
      'make one with `openssl pkcs12 -export -in CERT -inkey KEY -certfile CHAIN -out FILE.p12`',
    )
  if (encrypted) throw refuseEncrypted()
  try {
    return createPrivateKey({key: block.text, format: 'pem'})
  } catch (error) {
    const code = (error as {code?: string}).code ?? ''
    if (/PASSPHRASE|INTERRUPTED_OR_CANCELLED/.test(code)) throw refuseEncrypted()
    throw new ValidationError('key', 'the private key does not parse (PEM RSA or EC key expected)')
  }
}

/** `RSA-2048`, `EC-P-256`, `EC-P-384`; throws for anything else. */
export function keyTypeOf(key: KeyObject): string {
  const details = key.asymmetricKeyDetails ?? {}
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details.modulusLength ?? 0
    if (bits < 2048) throw new ValidationError('key', `the RSA key has ${bits} bits; at least 2048 are required`)
    return `RSA-${bits}`
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = {prime256v1: 'P-256', secp384r1: 'P-384'}[details.namedCurve ?? '']
    if (!curve) throw new ValidationError('key', `the EC key uses curve ${details.namedCurve ?? 'unknown'}; P-256 or P-384 is required`)
    return `EC-${curve}`
  }
  throw new ValidationError('key', `the key type ${key.asymmetricKeyType ?? 'unknown'} is not supported; RSA ≥ 2048 bits or EC P-256/P-384 is required`)
}

/** `DNS:a, IP Address:1.2.3.4` → `['a', '1.2.3.4']` (DNS names and IP addresses only). */
export function subjectAltNames(x509: X509Certificate): string[] {
  const text = x509.subjectAltName
  if (!text) return []
  return text
    .split(/,\s*/)
    .map((entry) => /^(?:DNS|IP Address):(.+)$/.exec(entry.trim())?.[1])
    .filter((name): name is string => name !== undefined)
    .map((name) => name.toLowerCase())
}

/** Whether a SAN (`*.example.com` covers exactly one label) covers `host`. */
export function sanCovers(san: string, host: string): boolean {
  const name = host.toLowerCase()
  if (san.startsWith('*.')) {
    const rest = san.slice(2)
    const dot = name.indexOf('.')
    return dot > 0 && name.slice(dot + 1) === rest
  }
  return san === name
}

/** The names a certificate cannot serve among `hosts` (for the "SAN does not cover" warning). */
export function uncoveredNames(sans: readonly string[], hosts: readonly string[]): string[] {
  return hosts.filter((host) => !sans.some((san) => sanCovers(san, host)))
}

function iso(date: string): string {
  return new Date(date).toISOString().replace('.000Z', 'Z')
}

export function daysLeft(notAfter: string, now: Date = new Date()): number {
  return Math.floor((new Date(notAfter).getTime() - now.getTime()) / DAY_MS)
}

function fingerprint(x509: X509Certificate): string {
  return createHash('sha256').update(x509.raw).digest('hex')
}

function checkChain(leaf: X509Certificate, chain: {x509: X509Certificate}[]): void {
  let child = leaf
  chain.forEach(({x509}, index) => {
    if (!child.checkIssued(x509) || !child.verify(x509.publicKey)) {
      const position = index === 0 ? 'the first chain certificate' : `chain certificate ${index + 1}`
      throw new ValidationError(
        'chain',
        `${position} (${x509.subject.replace(/\n/g, ', ')}) did not issue ${index === 0 ? 'the leaf' : `chain certificate ${index}`} (issuer ${child.issuer.replace(/\n/g, ', ')})`,
        'order the chain from the leaf towards the root: the intermediate that signed the leaf first',
      )
    }
    child = x509
  })
}

/**
 * Checks a certificate, its key and chain (SPEC §9). `certText` may carry the chain after
 * the leaf (a "fullchain.pem"); `chainText` adds to it. `now` is for tests.
 */
export function checkBundle(input: {certText: string; keyText: string; chainText?: string}, now: Date = new Date()): CheckedBundle {
  const certs = certificates('cert', input.certText)
  if (certs.length === 0) throw new ValidationError('cert', 'the certificate file holds no PEM certificate (-----BEGIN CERTIFICATE-----)')
  const [leaf, ...withLeaf] = certs
  const chain = [...withLeaf, ...(input.chainText === undefined ? [] : certificates('chain', input.chainText))]
  const key = privateKey(input.keyText)
  const keyType = keyTypeOf(key)
  if (!leaf.x509.checkPrivateKey(key)) {
    throw new ValidationError('key', 'the private key does not match the certificate', 'give the key the certificate was issued for')
  }
  checkChain(leaf.x509, chain)
  const warnings: string[] = []
  const notAfter = new Date(leaf.x509.validTo)
  if (notAfter.getTime() <= now.getTime()) {
    throw new ValidationError('cert', `the certificate expired on ${iso(leaf.x509.validTo)}`, 'renew it, then run the command again')
  }
  const days = daysLeft(leaf.x509.validTo, now)
  if (days < EXPIRY_WARNING_DAYS) warnings.push(`the certificate expires in ${days} days (${iso(leaf.x509.validTo)})`)
  if (new Date(leaf.x509.validFrom).getTime() > now.getTime()) {
    warnings.push(`the certificate is not valid before ${iso(leaf.x509.validFrom)}: clients refuse it until then`)
  }
  const sans = subjectAltNames(leaf.x509)
  if (sans.length === 0) warnings.push('the certificate has no subject alternative names: clients match names only against SANs')
  return {
    material: {
      cert_pem: leaf.pem,
      chain_pem: chain.map((entry) => entry.pem).join(''),
      key_pem: key.export({format: 'pem', type: 'pkcs8'}).toString(),
    },
    facts: {
      subject: leaf.x509.subject.replace(/\n/g, ', '),
      sans,
      issuer: leaf.x509.issuer.replace(/\n/g, ', '),
      not_before: iso(leaf.x509.validFrom),
      not_after: iso(leaf.x509.validTo),
      fingerprint_sha256: fingerprint(leaf.x509),
      key_type: keyType,
    },
    warnings,
  }
}

/** What HAProxy loads for one certificate: leaf, chain, key in one PEM file. */
export function haproxyPem(material: CertificateMaterial): string {
  return material.cert_pem + material.chain_pem + material.key_pem
}

/** Splits `openssl pkcs12 -nodes` output into leaf (the one matching the key), chain and key. */
export function splitPkcs12Pem(text: string): {certText: string; chainText: string; keyText: string} {
  const blocks = pemBlocks(text)
  const keys = blocks.filter((block) => block.label.includes('PRIVATE KEY'))
  const certs = blocks.filter((block) => block.label === 'CERTIFICATE')
  if (keys.length !== 1) throw new ValidationError('pkcs12', `the PKCS#12 bundle holds ${keys.length} private keys; exactly one is required`)
  if (certs.length === 0) throw new ValidationError('pkcs12', 'the PKCS#12 bundle holds no certificate')
  const key = privateKey(keys[0].text)
  const leafIndex = certs.findIndex((block) => new X509Certificate(block.text).checkPrivateKey(key))
  if (leafIndex < 0) throw new ValidationError('key', 'no certificate in the PKCS#12 bundle matches its private key')
  const leaf = certs[leafIndex]
  // Order the rest from the leaf upwards: each next one issued the previous.
  const rest = certs.filter((_, index) => index !== leafIndex).map((block) => ({block, x509: new X509Certificate(block.text)}))
  const ordered: PemBlock[] = []
  let child = new X509Certificate(leaf.text)
  while (rest.length > 0) {
    const index = rest.findIndex((candidate) => child.checkIssued(candidate.x509))
    if (index < 0) break
    const [next] = rest.splice(index, 1)
    ordered.push(next.block)
    child = next.x509
  }
  return {certText: leaf.text, chainText: ordered.map((block) => block.text).join(''), keyText: keys[0].text}
}
