/**
 * Certificates made by the tests with the real `openssl`: a private CA, an intermediate,
 * leaves with chosen SANs, key types and validity (expired ones too), keys that do not
 * match, encrypted keys and PKCS#12 bundles. Everything lives in one temporary directory.
 */
import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {tempDir} from './tmp.js'

export type KeySpec = 'rsa2048' | 'rsa1024' | 'ec256' | 'ec384' | 'ec521'

export interface Made {
  dir: string
  certFile: string
  keyFile: string
  cert: string
  key: string
}

export interface LeafOptions {
  sans?: string[]
  key?: KeySpec
  /** Days of validity from now; negative makes an expired certificate. */
  days?: number
  /** Issue with this CA (default: the intermediate). */
  issuer?: Made
  commonName?: string
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, {cwd, stdio: ['ignore', 'pipe', 'pipe']})
}

function keyArgs(spec: KeySpec, out: string): string[] {
  switch (spec) {
    case 'rsa2048':
      return ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', out]
    case 'rsa1024':
      return ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:1024', '-out', out]
    case 'ec256':
      return ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', out]
    case 'ec384':
      return ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', out]
    case 'ec521':
      return ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-521', '-out', out]
  }
}

/** A certificate factory over one temporary directory; call `cleanup()` when done. */
export class CertLab {
  readonly dir: string
  readonly cleanup: () => void
  readonly ca: Made
  readonly intermediate: Made
  private serial = 0

  constructor() {
    const tmp = tempDir('lbaas-certs-')
    this.dir = tmp.path
    this.cleanup = tmp.cleanup
    this.ca = this.selfSigned('Lab Root CA')
    this.intermediate = this.issue('intermediate', {commonName: 'Lab Intermediate CA', issuer: this.ca, key: 'ec256', days: 365}, true)
  }

  private next(prefix: string): string {
    return join(this.dir, `${prefix}-${++this.serial}`)
  }

  private made(base: string): Made {
    return {dir: this.dir, certFile: `${base}.crt`, keyFile: `${base}.key`, cert: readFileSync(`${base}.crt`, 'utf8'), key: readFileSync(`${base}.key`, 'utf8')}
  }

  key(spec: KeySpec = 'ec256'): string {
    const file = `${this.next('key')}.key`
    openssl(keyArgs(spec, file), this.dir)
    return file
  }

  private selfSigned(commonName: string): Made {
    const base = this.next('ca')
    openssl(keyArgs('ec256', `${base}.key`), this.dir)
    openssl(
      ['req', '-x509', '-new', '-key', `${base}.key`, '-subj', `/CN=${commonName}`, '-days', '3650', '-sha256',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', `${base}.crt`],
      this.dir,
    )
    return this.made(base)
  }

  /** A leaf (or, with `ca`, an intermediate CA) signed by `options.issuer`. */
  issue(prefix: string, options: LeafOptions = {}, ca = false): Made {
    const base = this.next(prefix)
    const issuer = options.issuer ?? this.intermediate
    openssl(keyArgs(options.key ?? 'ec256', `${base}.key`), this.dir)
    const sans = options.sans ?? ['www.example.test']
    const commonName = options.commonName ?? sans[0] ?? 'leaf'
    openssl(['req', '-new', '-key', `${base}.key`, '-subj', `/CN=${commonName}`, '-out', `${base}.csr`], this.dir)
    const extensions = ca
      ? ['basicConstraints=critical,CA:TRUE,pathlen:0', 'keyUsage=critical,keyCertSign,cRLSign']
      : ['basicConstraints=critical,CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', 'extendedKeyUsage=serverAuth']
    if (!ca && sans.length > 0) extensions.push(`subjectAltName=${sans.map((name) => (/^[\d.]+$/.test(name) ? `IP:${name}` : `DNS:${name}`)).join(',')}`)
    writeFileSync(`${base}.ext`, `${extensions.join('\n')}\n`)
    const days = options.days ?? 90
    const args = ['x509', '-req', '-in', `${base}.csr`, '-CA', issuer.certFile, '-CAkey', issuer.keyFile, '-CAcreateserial', '-sha256', '-extfile', `${base}.ext`, '-out', `${base}.crt`]
    if (days > 0) args.push('-days', String(days))
    else {
      // An expired certificate: valid from two years ago for one day… `-not_before/-not_after` need OpenSSL 3.4; use -days 1 with a faked start instead.
      args.push('-days', '1', '-set_serial', String(1000 + this.serial))
    }
    openssl(args, this.dir)
    if (days <= 0) return this.expired(base, issuer)
    return this.made(base)
  }

  /** Re-signs `base` with validity entirely in the past (openssl ca with -startdate/-enddate). */
  private expired(base: string, issuer: Made): Made {
    const db = `${base}.db`
    writeFileSync(db, '')
    writeFileSync(`${base}.cnf`, [
      '[ca]', 'default_ca = lab', '[lab]', `database = ${db}`, `new_certs_dir = ${this.dir}`, 'default_md = sha256',
      'policy = any', 'serial = ' + `${base}.serial`, 'unique_subject = no', 'copy_extensions = none', '[any]', 'commonName = supplied', '',
    ].join('\n'))
    writeFileSync(`${base}.serial`, `${(4096 + this.serial).toString(16)}\n`)
    openssl(['ca', '-batch', '-config', `${base}.cnf`, '-cert', issuer.certFile, '-keyfile', issuer.keyFile, '-in', `${base}.csr`,
      '-startdate', '20200101000000Z', '-enddate', '20200201000000Z', '-extfile', `${base}.ext`, '-notext', '-out', `${base}.crt`], this.dir)
    return this.made(base)
  }

  /** The chain a server sends after the leaf: the intermediate. */
  get chain(): string {
    return this.intermediate.cert
  }

  chainFile(): string {
    return this.intermediate.certFile
  }

  /** `key` encrypted with a passphrase (PKCS#8, AES-256). */
  encryptedKey(made: Made, passphrase = 'secret-pass'): string {
    const file = `${this.next('enc')}.key`
    openssl(['pkey', '-in', made.keyFile, '-aes256', '-passout', `pass:${passphrase}`, '-out', file], this.dir)
    return file
  }

  /** A PKCS#12 bundle (leaf, key, intermediate); returns its path and the passphrase file. */
  pkcs12(made: Made, passphrase = 'p12-secret'): {file: string; passphraseFile: string} {
    const base = this.next('bundle')
    writeFileSync(`${base}.pass`, `${passphrase}\n`, {mode: 0o600})
    openssl(['pkcs12', '-export', '-in', made.certFile, '-inkey', made.keyFile, '-certfile', this.intermediate.certFile,
      '-passout', `file:${base}.pass`, '-out', `${base}.p12`], this.dir)
    return {file: `${base}.p12`, passphraseFile: `${base}.pass`}
  }

  write(name: string, content: string): string {
    const file = join(this.dir, name)
    writeFileSync(file, content)
    return file
  }
}
