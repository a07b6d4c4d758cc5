import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import tls from 'node:tls'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/domain/errors.js'
import {adminVersion} from '../../../src/gearman/admin.js'
import {GearmanClient} from '../../../src/gearman/client.js'
import {GearmanUnavailableError} from '../../../src/gearman/errors.js'
import {GearmanWorker} from '../../../src/gearman/worker.js'
import {uniqueSuffix} from '../../helpers/unique.js'
import {Gearmand} from './gearmand-process.js'

/**
 * TLS with mutual authentication. Debian's gearmand 1.1.20 accepts --ssl but is built
 * without OpenSSL (the binary imports no SSL_* symbol; a TLS ClientHello is read as a bad
 * magic), so a Node TLS terminator that requires and verifies client certificates stands
 * in front of a plain gearmand. The handshakes are real TLS.
 */

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, {cwd: dir, stdio: 'ignore', timeout: 30_000})
}

function makeCa(dir: string, name: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${name}`])
}

function makeCert(dir: string, ca: string, name: string, extensions?: string): void {
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`])
  const sign = ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2']
  if (extensions) {
    writeFileSync(join(dir, `${name}.ext`), extensions)
    sign.push('-extfile', `${name}.ext`)
  }
  openssl(dir, sign)
}

describe('Gearman over TLS', () => {
  let dir: string
  let gearmand: Gearmand
  let terminator: tls.Server
  let tlsPort: number
  const peerNames: string[] = []
  const files = (ca: string, cert: string) => ({ca: join(dir, `${ca}.pem`), cert: join(dir, `${cert}.pem`), key: join(dir, `${cert}.key`)})

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'lbaas-gearman-tls-'))
    makeCa(dir, 'ca')
    makeCa(dir, 'rogue-ca')
    makeCert(dir, 'ca', 'server', 'subjectAltName=IP:127.0.0.1\n')
    makeCert(dir, 'ca', 'client')
    makeCert(dir, 'rogue-ca', 'rogue-client')
    gearmand = await Gearmand.start()
    terminator = tls.createServer(
      {
        key: readFileSync(join(dir, 'server.key')),
        cert: readFileSync(join(dir, 'server.pem')),
        ca: readFileSync(join(dir, 'ca.pem')),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (secure) => {
        peerNames.push(String(secure.getPeerCertificate().subject?.CN))
        const plain = net.connect({host: '127.0.0.1', port: gearmand.port})
        secure.pipe(plain).pipe(secure)
        const closeBoth = () => {
          secure.destroy()
          plain.destroy()
        }
        secure.on('error', closeBoth).on('close', closeBoth)
        plain.on('error', closeBoth).on('close', closeBoth)
      },
    )
    terminator.on('tlsClientError', () => undefined)
    await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve))
    tlsPort = (terminator.address() as net.AddressInfo).port
  })

  afterAll(async () => {
    await new Promise((resolve) => (terminator ? terminator.close(resolve) : resolve(undefined)))
    await gearmand?.stop()
    if (dir) rmSync(dir, {recursive: true, force: true})
  })

  it('runs worker and client over mutually authenticated TLS', async () => {
    const servers = [{host: '127.0.0.1', port: tlsPort}]
    const functionName = `lbt-tls-${uniqueSuffix()}`
    const worker = new GearmanWorker(
      {servers, functionName, clientId: 'lbt-tls-worker', tls: files('ca', 'client')},
      async (job) => Buffer.concat([Buffer.from('secure:'), job.payload]),
    )
    worker.start()
    const client = new GearmanClient({servers, tls: files('ca', 'client')})
    try {
      expect((await client.submitJob(functionName, 'héllo', {timeoutMs: 15_000})).toString('utf8')).toBe('secure:héllo')
      const payload = Buffer.from('ü✓'.repeat(210_000), 'utf8')
      const echoed = await client.submitJob(functionName, payload, {timeoutMs: 30_000})
      expect(echoed.subarray(7).equals(payload)).toBe(true)
      expect(await adminVersion(servers[0]!, {tls: files('ca', 'client')})).toMatch(/^\d+\.\d+/)
      expect(peerNames).toContain('client')
    } finally {
      await client.close()
      await worker.stop(5_000)
    }
  })

  it('is refused by the server when the client certificate comes from another CA', async () => {
    const client = new GearmanClient({servers: [{host: '127.0.0.1', port: tlsPort}], tls: files('ca', 'rogue-client')})
    try {
      const failure = await client.submitJob('anything', 'x', {timeoutMs: 10_000}).catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(GearmanUnavailableError)
    } finally {
      await client.close()
    }
  })

  it('refuses a server whose certificate the configured CA did not sign', async () => {
    const client = new GearmanClient({servers: [{host: '127.0.0.1', port: tlsPort}], tls: files('rogue-ca', 'rogue-client')})
    try {
      const failure = await client.submitJob('anything', 'x', {timeoutMs: 10_000}).catch((error: unknown) => error)
      expect(failure).toBeInstanceOf(GearmanUnavailableError)
      expect((failure as Error).message).toMatch(/certificate/i)
    } finally {
      await client.close()
    }
  })

  it('refuses partial TLS options before connecting', () => {
    const servers = [{host: '127.0.0.1', port: tlsPort}]
    const {ca, cert} = files('ca', 'client')
    expect(() => new GearmanClient({servers, tls: {ca, cert}})).toThrow(UsageError)
    expect(() => new GearmanWorker({servers, functionName: 'f', clientId: 'c', tls: {cert}}, async () => '')).toThrow(UsageError)
  })
})
