/**
 * `lbaas cert …` through the built CLI (SPEC §9): every refusal changes nothing, the list
 * is sorted by days left, expiry shows in `status` and `doctor`, and the private key never
 * appears in any output: tables, --json, -f yaml, errors, or LBAAS_DEBUG traces.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Certificate} from '../../../src/domain/types.js'
import {CertLab, type Made} from '../../helpers/certs.js'
import {cliFor, type CliResult} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'

const dir = tempDir('lbt-certs-')
const cli = cliFor(dir.path)
const certs = new CertLab()
let shop: Made
let soon: Made
const outputs: CliResult[] = []

async function lbaas(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const result = await cli.run(args, {env: {LBAAS_DEBUG: '1', ...env}})
  outputs.push(result)
  return result
}

const names = async () => (await cli.json<Certificate[]>(['cert', 'list', '--json'])).map((cert) => `${cert.name}:${cert.fingerprint_sha256}`)

beforeAll(() => {
  shop = certs.issue('shop', {sans: ['shop.example.test'], key: 'rsa2048'})
  soon = certs.issue('soon', {sans: ['soon.example.test'], days: 10})
})

afterAll(() => {
  dir.cleanup()
  certs.cleanup()
})

describe('lbaas cert', () => {
  it('creates from PEM files and from PKCS#12, lists soonest expiry first, and warns under 30 days', async () => {
    const created = await lbaas(['cert', 'create', 'shop', '--cert', shop.certFile, '--key', shop.keyFile, '--chain', certs.chainFile(), '--json'])
    expect(created.exitCode, created.stderr).toBe(0)
    expect(Object.keys(JSON.parse(created.stdout)).sort()).toEqual(
      ['days_left', 'fingerprint_sha256', 'id', 'issuer', 'key_type', 'name', 'not_after', 'not_before', 'sans', 'subject', 'used_by'].sort(),
    )
    const bundle = certs.pkcs12(soon)
    const p12 = await lbaas(['cert', 'create', 'soon', '--pkcs12', bundle.file, '--passphrase-file', bundle.passphraseFile, '-f', 'yaml'])
    expect(p12.exitCode, p12.stderr).toBe(0)
    expect(p12.stderr).toMatch(/certificate soon: the certificate expires in \d+ days/)
    const list = await cli.json<Certificate[]>(['cert', 'list', '--json'])
    expect(list.map((cert) => cert.name)).toEqual(['soon', 'shop'])
    expect(list[0].days_left).toBeLessThan(11)
    expect(list[1]).toMatchObject({key_type: 'RSA-2048', sans: ['shop.example.test'], issuer: 'CN=Lab Intermediate CA', used_by: []})
  })

  it('refuses bad material with exit 2 and changes nothing', async () => {
    const before = await names()
    const other = certs.issue('other', {sans: ['other.example.test']})
    const expired = certs.issue('expired', {days: -1})
    const cases: {args: string[]; code: string; text: RegExp}[] = [
      {args: ['--cert', shop.certFile, '--key', other.keyFile], code: 'invalid_key', text: /does not match/},
      {args: ['--cert', shop.certFile, '--key', shop.keyFile, '--chain', certs.ca.certFile], code: 'invalid_chain', text: /leaf/},
      {args: ['--cert', expired.certFile, '--key', expired.keyFile], code: 'invalid_cert', text: /expired/},
      {args: ['--cert', shop.certFile, '--key', certs.encryptedKey(shop)], code: 'invalid_key', text: /--pkcs12 FILE --passphrase-file FILE/},
      {args: ['--pkcs12', certs.pkcs12(shop).file, '--passphrase-file', certs.write('wrong.pass', 'nope\n')], code: 'invalid_pkcs12', text: /passphrase/},
    ]
    for (const attempt of cases) {
      const result = await lbaas(['cert', 'create', 'bad', ...attempt.args, '--json'])
      expect(result.exitCode, result.stderr).toBe(2)
      const error = JSON.parse(result.stdout || result.stderr).error as {code: string; message: string; suggestion?: string}
      expect(error.code).toBe(attempt.code)
      expect(`${result.stdout}${result.stderr}`).toMatch(attempt.text)
    }
    // The same refusals on update leave the stored certificate as it was.
    const update = await lbaas(['cert', 'update', 'shop', '--cert', expired.certFile, '--key', expired.keyFile])
    expect(update.exitCode).toBe(2)
    expect(await names()).toEqual(before)
  })

  it('updates a certificate no VIP uses, and deletes it', async () => {
    const renewed = certs.issue('shop2', {sans: ['shop.example.test'], key: 'ec384'})
    const updated = await cli.json<Certificate>(['cert', 'update', 'shop', '--cert', renewed.certFile, '--key', renewed.keyFile, '--json'])
    expect(updated.key_type).toBe('EC-P-384')
    const deleted = await lbaas(['cert', 'delete', 'shop', '--yes', '--json'])
    expect(deleted.exitCode).toBe(0)
    expect((await lbaas(['cert', 'show', 'shop'])).exitCode).toBe(5)
  })

  it('warns in status and doctor about a certificate expiring within 30 days', async () => {
    const status = await lbaas(['status'])
    expect(status.stderr).toMatch(/certificate soon expires in \d+ days/)
    const doctor = await lbaas(['doctor', '--json'])
    const checks = JSON.parse(doctor.stdout).checks as {name: string; status: string; fix?: string}[]
    expect(checks.find((check) => check.name === 'certificate soon')).toMatchObject({status: 'warning', fix: expect.stringContaining('lbaas cert update soon')})
  })

  it('never printed a private key, in any output of this file', () => {
    const keyLines = [shop.key, soon.key].map((key) => key.split('\n')[1])
    expect(outputs.length).toBeGreaterThan(8)
    for (const output of outputs) {
      const text = `${output.stdout}${output.stderr}`
      expect(text).not.toContain('PRIVATE KEY')
      for (const line of keyLines) expect(text).not.toContain(line)
    }
  })
})
