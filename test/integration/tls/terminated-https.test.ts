/**
 * SPEC §9 through real HAProxy and real clients: certificates made with openssl, a
 * TERMINATED_HTTPS VIP with a default and an SNI certificate, checked with curl (verified
 * against the lab CA, per SNI name and for the default), openssl s_client (the chain sent,
 * the TLS floor), HTTP/2 by ALPN, the 301 from port 80, the headers the backend sees, and a
 * rotation under load with 0 failed requests and 0 reloads.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {X509Certificate} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import {request as httpsRequest} from 'node:https'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Certificate, Vip} from '../../../src/domain/types.js'
import {LocalExecutor} from '../../../src/host/executor.js'
import {readFdLimit, safeMaxConn} from '../../../src/host/fd-limit.js'
import {haproxyAccount} from '../../../src/host/haproxy-process.js'
import {run} from '../../../src/host/run.js'
import {silentNotifier} from '../../../src/service/context.js'
import {openStore} from '../../../src/store/db.js'
import {loadPoolGraph} from '../../../src/store/graph.js'
import {CertLab, type Made} from '../../helpers/certs.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'

const world = trafficLab('tls')
const certs = new CertLab()
let lab: LabInfo
let poolId = ''
let vip: Vip
let vipAddress = ''
let shop: Made
let blog: Made
const caFile = () => certs.ca.certFile

async function curl(args: string[]): Promise<{exitCode: number; stdout: string; stderr: string}> {
  return run(['curl', '--silent', '--show-error', '--max-time', '10', ...args], {allowFailure: true, timeoutMs: 15_000})
}

/** curl with the name resolved to the VIP, verified against the lab CA. */
function curlName(name: string, path = '/', extra: string[] = []) {
  return curl(['--cacert', caFile(), '--resolve', `${name}:443:${vipAddress}`, ...extra, `https://${name}${path}`])
}

/** What the VIP sends for `servername`: the certificates of the chain, leaf first. */
async function servedChain(servername: string): Promise<X509Certificate[]> {
  const result = await run(
    ['openssl', 's_client', '-connect', `${vipAddress}:443`, '-servername', servername, '-showcerts'],
    {allowFailure: true, timeoutMs: 10_000, input: ''},
  )
  const blocks = result.stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  return blocks.map((pem) => new X509Certificate(pem))
}

async function reloads(): Promise<number> {
  return (await world.proc(poolId)).master.reloads
}

beforeAll(async () => {
  shop = certs.issue('shop', {sans: ['shop.example.test', 'www.shop.example.test'], key: 'rsa2048'})
  blog = certs.issue('blog', {sans: ['*.blog.example.test'], key: 'ec256'})
  lab = await world.lab(2)
  poolId = (await world.pool('tls', 'HTTP', 'ROUND_ROBIN', lab)).id
  for (const n of [1, 2]) await world.member(poolId, lab.backend(n).address)
  await world.cli.json(['cert', 'create', 'shop', '--cert', shop.certFile, '--key', shop.keyFile, '--chain', certs.chainFile(), '--json'])
  const bundle = certs.pkcs12(blog)
  await world.cli.json(['cert', 'create', 'blog', '--pkcs12', bundle.file, '--passphrase-file', bundle.passphraseFile, '--json'])
  vipAddress = `${lab.base}.2`
  vip = await world.vip(poolId, 'tls-vip', 'TERMINATED_HTTPS', 443, lab, vipAddress, ['--default-cert', 'shop', '--sni-cert', 'blog', '--redirect-http'])
})

afterAll(async () => {
  try {
    await world.cleanup()
  } finally {
    certs.cleanup()
  }
})

describe('a TERMINATED_HTTPS VIP', () => {
  it('shows its certificates in the VIP and the VIPs in the certificates', async () => {
    const list = await world.cli.json<Certificate[]>(['cert', 'list', '--json'])
    const ids = Object.fromEntries(list.map((cert) => [cert.name, cert.id]))
    expect(vip).toMatchObject({protocol: 'TERMINATED_HTTPS', default_cert: ids.shop, sni_certs: [ids.blog], redirect_http: true, status: 'ACTIVE'})
    for (const cert of list) expect(cert.used_by).toEqual([vip.id])
  })

  it('keeps the certificate files 0600 under the pool run dir', () => {
    const dir = `${world.paths(poolId).dir}/tls`
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    for (const id of [vip.default_cert!, ...vip.sni_certs]) expect(statSync(`${dir}/${id}.pem`).mode & 0o777).toBe(0o600)
    expect(readFileSync(`${dir}/crt-list`, 'utf8').split('\n')[0]).toBe(`${dir}/${vip.default_cert}.pem shop.example.test www.shop.example.test`)
  })

  it('answers each SNI name with its certificate, verified against the lab CA', async () => {
    for (const name of ['shop.example.test', 'www.shop.example.test', 'news.blog.example.test']) {
      const result = await curlName(name, '/', ['--write-out', '%{http_code}'])
      expect(result.stderr).toBe('')
      expect(result.stdout).toMatch(/^tls-\S+|200$/)
      expect(result.stdout.endsWith('200')).toBe(true)
    }
    expect((await servedChain('news.blog.example.test'))[0].subjectAltName).toBe('DNS:*.blog.example.test')
  })

  it('serves the default certificate to an unknown name (and curl refuses the name mismatch)', async () => {
    expect((await servedChain('unknown.example.test'))[0].subject).toBe('CN=shop.example.test')
    const result = await curlName('unknown.example.test')
    expect(result.exitCode).toBe(60)
  })

  it('sends the chain leaf first, then the intermediate', async () => {
    const chain = await servedChain('shop.example.test')
    expect(chain.map((cert) => cert.subject)).toEqual(['CN=shop.example.test', 'CN=Lab Intermediate CA'])
    expect(chain[0].checkIssued(chain[1])).toBe(true)
  })

  it('refuses TLS 1.1 and accepts TLS 1.2', async () => {
    const base = ['openssl', 's_client', '-connect', `${vipAddress}:443`, '-servername', 'shop.example.test']
    // SECLEVEL=0 lets the client offer TLS 1.1, so a failure is the server's refusal.
    const old = await run([...base, '-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'], {allowFailure: true, timeoutMs: 10_000, input: ''})
    expect(old.exitCode).not.toBe(0)
    // The server answers the TLS 1.1 hello with alert 70 (protocol_version): no cipher is agreed.
    expect(old.stderr).toMatch(/alert protocol version/)
    expect(old.stdout).toMatch(/Cipher is \(NONE\)/)
    const modern = await run([...base, '-tls1_2'], {allowFailure: true, timeoutMs: 10_000, input: ''})
    expect(modern.stdout).toMatch(/Protocol\s*:\s*TLSv1\.2/)
  })

  it('speaks HTTP/2 through ALPN', async () => {
    const result = await curlName('shop.example.test', '/', ['--http2', '--output', '/dev/null', '--write-out', '%{http_version}'])
    expect(result.stdout).toBe('2')
  })

  it('answers plain HTTP on port 80 with a 301 to https://', async () => {
    const result = await curl(['--output', '/dev/null', '--write-out', '%{http_code} %{redirect_url}', '-H', 'Host: shop.example.test', `http://${vipAddress}/cart?item=1`])
    expect(result.stdout).toBe('301 https://shop.example.test/cart?item=1')
  })

  it('tells the members the client address and that the request came over https', async () => {
    const result = await curlName('shop.example.test', '/headers')
    const headers = JSON.parse(result.stdout) as Record<string, string>
    expect(headers['x-forwarded-proto']).toBe('https')
    expect(headers['x-forwarded-for']).toBe(`${lab.base}.1`)
  })

  it('rotates a certificate under load with 0 failed requests and no reload', async () => {
    const before = await reloads()
    const oldFingerprint = (await servedChain('shop.example.test'))[0].fingerprint256
    const renewed = certs.issue('shop-renewed', {sans: ['shop.example.test', 'www.shop.example.test'], key: 'rsa2048'})
    const seen = new Set<string>()
    const failures: string[] = []
    let sent = 0
    let stopped = false
    const loop = async () => {
      while (!stopped && sent < 400) {
        sent++
        await new Promise<void>((resolve) => {
          const req = httpsRequest(
            {host: vipAddress, port: 443, servername: 'shop.example.test', path: '/', ca: readFileSync(caFile()), agent: false, timeout: 10_000, headers: {Host: 'shop.example.test'}},
            (res) => {
              seen.add((res.socket as import('node:tls').TLSSocket).getPeerCertificate().fingerprint256)
              if (res.statusCode !== 200) failures.push(`HTTP ${res.statusCode}`)
              res.resume()
              res.on('end', resolve)
            },
          )
          req.on('error', (error) => {
            failures.push(error.message)
            resolve()
          })
          req.on('timeout', () => req.destroy(new Error('timeout')))
          req.end()
        })
      }
    }
    const loops = [loop(), loop()]
    await sleep(300)
    const update = await world.cli.run(['cert', 'update', 'shop', '--cert', renewed.certFile, '--key', renewed.keyFile, '--chain', certs.chainFile(), '--json'])
    await sleep(300)
    stopped = true
    await Promise.all(loops)
    expect(update.exitCode, update.stderr).toBe(0)
    expect(failures).toEqual([])
    expect(sent).toBeGreaterThan(10)
    const newFingerprint = new X509Certificate(renewed.cert).fingerprint256
    expect([...seen].sort()).toEqual([oldFingerprint, newFingerprint].sort())
    expect((await servedChain('shop.example.test'))[0].fingerprint256).toBe(newFingerprint)
    expect(await reloads()).toBe(before)
    // The file is rewritten too, so a later reload keeps the new certificate.
    const file = readFileSync(`${world.paths(poolId).dir}/tls/${vip.default_cert}.pem`, 'utf8')
    expect(new X509Certificate(file).fingerprint256).toBe(newFingerprint)
    const shown = await world.cli.json<Certificate>(['cert', 'show', 'shop', '--json'])
    expect(shown.fingerprint_sha256).toBe(newFingerprint.replaceAll(':', '').toLowerCase())
    // sync sees the pool as current: nothing to do.
    const plan = await world.cli.json<unknown[]>(['sync', '--dry-run', '--json'])
    expect(plan.filter((action) => JSON.stringify(action).includes(poolId))).toEqual([])
  })

  it('leaves the old certificate serving when HAProxy refuses a rotation', async () => {
    const store = openStore(world.cli.statePath)
    try {
      const graph = loadPoolGraph(store.db, poolId)!
      const served = (await servedChain('shop.example.test'))[0].fingerprint256
      const stranger = certs.issue('stranger', {sans: ['shop.example.test']})
      // A key that does not match: `cert update` refuses it, so hand it to the executor directly.
      const bad = {...graph, certs: graph.certs.map((cert) => (cert.id === vip.default_cert ? {...cert, key_pem: stranger.key} : cert))}
      const executor = new LocalExecutor({runDir: world.runDir, maxconn: safeMaxConn(readFdLimit().hard), ...haproxyAccount(), notify: silentNotifier})
      const before = await reloads()
      const file = `${world.paths(poolId).dir}/tls/${vip.default_cert}.pem`
      const onDisk = readFileSync(file, 'utf8')
      await expect(executor.rotateCertificates(bad, graph.certs, {countersBeforeReload: () => undefined})).rejects.toMatchObject({code: 'haproxy_runtime_refused'})
      expect((await servedChain('shop.example.test'))[0].fingerprint256).toBe(served)
      expect(readFileSync(file, 'utf8')).toBe(onDisk)
      expect(await reloads()).toBe(before)
    } finally {
      store.close()
    }
  })

  it('refuses to delete a certificate in use (conflict) and never prints a key', async () => {
    const deleted = await world.cli.run(['cert', 'delete', 'shop', '--yes', '--json'])
    expect(deleted.exitCode).toBe(4)
    const keyLine = shop.key.split('\n')[1]
    for (const args of [['cert', 'show', 'shop', '--json'], ['cert', 'list', '-f', 'yaml'], ['vip', 'show', 'tls-vip', '--json']]) {
      const result = await world.cli.run(args, {env: {LBAAS_DEBUG: '1'}})
      expect(`${result.stdout}${result.stderr}`).not.toContain('PRIVATE KEY')
      expect(`${result.stdout}${result.stderr}`).not.toContain(keyLine)
    }
  })
})
