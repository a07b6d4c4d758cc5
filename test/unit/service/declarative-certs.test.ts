/** `certs:` entries read and checked as `cert create` checks them, every problem at its path (SPEC §8.1). */
import {mkdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {basename, join} from 'node:path'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {DesiredCert, DesiredFile} from '../../../src/declarative/file.js'
import {parseApplyText} from '../../../src/declarative/parse.js'
import {validateApplyFile} from '../../../src/declarative/validate.js'
import {checkFileCerts} from '../../../src/service/declarative-certs.js'
import {CertLab, type Made} from '../../helpers/certs.js'

const fileWith = (certs: DesiredCert[]): DesiredFile => ({stack: 'shop', certs, subnets: [], monitors: [], pools: []})

describe('apply file certificates', () => {
  let lab: CertLab
  let leaf: Made
  let other: Made
  beforeAll(() => {
    lab = new CertLab()
    leaf = lab.issue('leaf', {sans: ['shop.test']})
    other = lab.issue('other', {sans: ['other.test']})
  })
  afterAll(() => lab.cleanup())

  it('reads files relative to the base directory and fills the fingerprint and key digest', () => {
    const file = fileWith([{name: 'shop', source: {kind: 'files', cert_file: basename(leaf.certFile), key_file: basename(leaf.keyFile), chain_file: basename(lab.chainFile())}}])
    const {bundles, problems} = checkFileCerts(file, lab.dir)
    expect(problems).toEqual([])
    expect(file.certs[0].checked!.fingerprint_sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(file.certs[0].checked!.key_sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(bundles.get('shop')!.material.chain_pem).toBe(lab.chain)
  })

  it('refuses a key that does not match, at the key path (files and inline)', () => {
    const files = checkFileCerts(fileWith([{name: 'shop', source: {kind: 'files', cert_file: leaf.certFile, key_file: other.keyFile}}]), '/nonexistent')
    expect(files.problems).toHaveLength(1)
    expect(files.problems[0].path).toBe('certs[0].key_file')
    expect(files.problems[0].message).toContain('does not match the certificate')
    const inline = checkFileCerts(fileWith([{name: 'a', source: {kind: 'inline', cert_pem: leaf.cert, key_pem: leaf.key}}, {name: 'b', source: {kind: 'inline', cert_pem: leaf.cert, key_pem: other.key}}]), '/')
    expect(inline.problems.map((problem) => problem.path)).toEqual(['certs[1].key_pem'])
    expect(JSON.stringify(inline.problems)).not.toContain('PRIVATE KEY')
  })

  it('refuses missing files, directories and FIFOs-through-symlinks by path, reading nothing else', () => {
    const dir = join(lab.dir, 'adir')
    mkdirSync(dir)
    symlinkSync('/dev/null', join(lab.dir, 'null-link'))
    const {problems} = checkFileCerts(
      fileWith([
        {name: 'a', source: {kind: 'files', cert_file: 'missing.crt', key_file: leaf.keyFile}},
        {name: 'b', source: {kind: 'files', cert_file: 'adir', key_file: 'null-link'}},
      ]),
      lab.dir,
    )
    expect(problems).toEqual([
      {path: 'certs[0].cert_file', message: 'cannot read missing.crt: no such file'},
      {path: 'certs[1].cert_file', message: 'adir is not a regular file'},
      {path: 'certs[1].key_file', message: 'null-link is not a regular file'},
    ])
  })

  it('refuses an expired certificate at the cert path', () => {
    const expired = lab.issue('expired', {days: -1})
    const {problems} = checkFileCerts(fileWith([{name: 'old', source: {kind: 'inline', cert_pem: expired.cert, key_pem: expired.key}}]), '/')
    expect(problems.map((problem) => problem.path)).toEqual(['certs[0].cert_pem'])
    expect(problems[0].message).toContain('expired')
  })

  it('validates the shape: both kinds of source, a half source, a bad name, VIP TLS fields on the wrong protocol', () => {
    writeFileSync(join(lab.dir, 'unused'), '')
    const text = `
apiVersion: lbaas/v1
stack: shop
certs:
  - {name: a, cert_file: a.crt, cert_pem: x, key_pem: y}
  - {name: b, cert_file: b.crt}
  - {name: "bad name"}
  - {name: d}
pools:
  - name: web
    subnet: lab
    protocol: HTTP
    lb_method: ROUND_ROBIN
    vip: {name: v1, protocol_port: 80, default_cert: d}
  - name: tls
    subnet: lab
    protocol: HTTP
    lb_method: ROUND_ROBIN
    vip: {name: v2, protocol: TERMINATED_HTTPS, protocol_port: 443}
  - name: tcp
    subnet: lab
    protocol: TCP
    lb_method: ROUND_ROBIN
    vip: {name: v3, protocol: TERMINATED_HTTPS, protocol_port: 443, default_cert: d}
`
    const {problems} = validateApplyFile(parseApplyText(text).value, 10_000)
    const paths = problems.map((problem) => problem.path)
    expect(paths).toEqual(
      expect.arrayContaining([
        'certs[0]', 'certs[1].key_file', 'certs[2].name', 'pools[0].vip.default_cert', 'pools[1].vip.default_cert', 'pools[2].vip.protocol',
      ]),
    )
    expect(paths).not.toContain('certs[3]')
  })

  it('accepts a TERMINATED_HTTPS VIP with SNI certificates and a redirect', () => {
    const text = `
apiVersion: lbaas/v1
stack: shop
certs: [{name: d}, {name: s1}]
pools:
  - {name: web, subnet: lab, protocol: HTTP, lb_method: ROUND_ROBIN, vip: {name: v, protocol: TERMINATED_HTTPS, protocol_port: 443, default_cert: d, sni_certs: [s1], redirect_http: true}}
`
    const {file, problems} = validateApplyFile(parseApplyText(text).value, 10_000)
    expect(problems).toEqual([])
    expect(file!.pools[0].vip).toMatchObject({protocol: 'TERMINATED_HTTPS', default_cert: 'd', sni_certs: ['s1'], redirect_http: true})
    expect(file!.certs).toEqual([{name: 'd'}, {name: 's1'}])
  })
})
