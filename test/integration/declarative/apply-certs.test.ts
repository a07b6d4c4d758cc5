/**
 * SPEC §8.1 `certs:` through the built CLI, real openssl, real HAProxy and curl: an apply
 * file with a certificate (relative file paths) and a TERMINATED_HTTPS VIP answering
 * `curl --cacert … --resolve`; applying again changes nothing; the certificate file
 * replaced with a renewed one rotates it with 0 reloads; export carries no key material
 * and `export | apply -f -` plans nothing.
 */
import {copyFileSync, mkdirSync, writeFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {stringify} from 'yaml'

import type {Certificate, Pool} from '../../../src/domain/types.js'
import {run} from '../../../src/host/run.js'
import {CertLab, type Made} from '../../helpers/certs.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'

const world = trafficLab('applytls')
const certs = new CertLab()
const stack = `t${world.suffix}`
const poolName = `tls-${world.suffix}`
const certName = `shop-${world.suffix}`
const host = 'shop.example.test'
const fileDir = () => `${world.dir}/apply-certs`
const filePath = () => `${fileDir()}/stack.yaml`
let lab: LabInfo
let first: Made
let vipAddress = ''

/** The file names the certificate by relative paths: they start from the file's directory. */
function place(made: Made): void {
  copyFileSync(made.certFile, `${fileDir()}/shop.crt`)
  copyFileSync(made.keyFile, `${fileDir()}/shop.key`)
  copyFileSync(certs.chainFile(), `${fileDir()}/chain.crt`)
}

function writeFile(): void {
  writeFileSync(
    filePath(),
    stringify({
      apiVersion: 'lbaas/v1',
      stack,
      certs: [{name: certName, cert_file: 'shop.crt', key_file: 'shop.key', chain_file: 'chain.crt'}],
      pools: [
        {
          name: poolName, subnet: lab.subnet, protocol: 'HTTP', lb_method: 'ROUND_ROBIN',
          members: [{address: lab.backend(1).address, protocol_port: 8000}],
          vip: {name: `${poolName}-vip`, protocol: 'TERMINATED_HTTPS', protocol_port: 443, address: vipAddress, default_cert: certName},
        },
      ],
    }),
  )
}

const apply = (args: string[] = [], input?: string) => world.cli.run(['apply', ...args, '--json'], input === undefined ? {} : {input})
const reloads = async () => (await world.proc((await world.cli.json<Pool>(['pool', 'show', poolName, '--json'])).id)).master.reloads
const servedFingerprint = async () => {
  const result = await run(['openssl', 's_client', '-connect', `${vipAddress}:443`, '-servername', host], {allowFailure: true, timeoutMs: 10_000, input: ''})
  const pem = result.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)?.[0]
  const {X509Certificate, createHash} = await import('node:crypto')
  return pem ? createHash('sha256').update(new X509Certificate(pem).raw).digest('hex') : ''
}

beforeAll(async () => {
  lab = await world.lab(1)
  vipAddress = `${lab.base}.2`
  mkdirSync(fileDir())
  first = certs.issue('shop', {sans: [host]})
  place(first)
  writeFile()
})

afterAll(async () => {
  try {
    await world.cleanup()
  } finally {
    certs.cleanup()
  }
})

describe('apply with certificates', () => {
  it('creates the certificate and a TERMINATED_HTTPS VIP answering curl verified against the lab CA', async () => {
    const result = await apply(['-f', filePath()])
    expect(result.stderr).not.toMatch(/error/i)
    expect(result.exitCode).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(report.actions.find((action: {kind: string}) => action.kind === 'cert')).toMatchObject({name: certName, op: 'create'})
    const answer = await run(['curl', '--silent', '--show-error', '--max-time', '10', '--cacert', certs.ca.certFile, '--resolve', `${host}:443:${vipAddress}`, '--write-out', '%{http_code}', '--output', '/dev/null', `https://${host}/`], {allowFailure: true, timeoutMs: 15_000})
    expect(answer.stderr).toBe('')
    expect(answer.stdout).toBe('200')
  }, 60_000)

  it('applying again changes nothing', async () => {
    const result = await apply(['-f', filePath()])
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.stdout).changed).toBe(false)
  }, 240_000)

  it('a renewed certificate in the same file rotates through the runtime API: 0 reloads', async () => {
    const before = await reloads()
    const renewed = certs.issue('shop-renewed', {sans: [host]})
    place(renewed)
    const result = await apply(['-f', filePath()])
    expect(result.exitCode).toBe(0)
    const report = JSON.parse(result.stdout)
    const action = report.actions.find((candidate: {kind: string}) => candidate.kind === 'cert')
    expect(action).toMatchObject({op: 'update', host: 'runtime'})
    expect(report.actions.find((candidate: {kind: string}) => candidate.kind === 'pool').host).toBe('none')
    const stored = await world.cli.json<Certificate>(['cert', 'show', certName, '--json'])
    expect(await servedFingerprint()).toBe(stored.fingerprint_sha256)
    expect(action.fields.fingerprint_sha256.to).toBe(stored.fingerprint_sha256)
    expect(await reloads()).toBe(before)
  }, 60_000)

  it('refuses a key that does not match with its path, exit 2, nothing changed', async () => {
    const other = certs.issue('other', {sans: [host]})
    copyFileSync(other.keyFile, `${fileDir()}/shop.key`)
    const before = await world.cli.json<Certificate[]>(['cert', 'list', '--json'])
    const result = await world.cli.run(['apply', '-f', filePath()])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('certs[0].key_file: the private key does not match the certificate')
    expect(result.stderr + result.stdout).not.toContain('PRIVATE KEY')
    expect(await world.cli.json<Certificate[]>(['cert', 'list', '--json'])).toEqual(before)
    expect(await servedFingerprint()).toBe(before.find((cert) => cert.name === certName)!.fingerprint_sha256)
  }, 240_000)

  it('exports the certificate by reference only, and export | apply -f - plans nothing', async () => {
    const exported = await world.cli.run(['export', '--stack', stack])
    expect(exported.exitCode).toBe(0)
    expect(exported.stdout).toContain(certName)
    for (const secret of ['PRIVATE KEY', 'BEGIN', 'key_pem', 'key_file', 'cert_pem']) expect(exported.stdout).not.toContain(secret)
    const before = await reloads()
    const result = await apply(['-f', '-'], exported.stdout)
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.stdout).changed).toBe(false)
    expect(await reloads()).toBe(before)
  }, 240_000)
})
