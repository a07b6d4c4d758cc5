import {execFileSync} from 'node:child_process'
import {readFileSync, writeFileSync} from 'node:fs'
import net from 'node:net'
import {join} from 'node:path'
import tls from 'node:tls'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {AgentSummary} from '../../../src/service/agents.js'
import {cliFor, errorOf} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'
import {uniqueSuffix} from '../../helpers/unique.js'
import {Gearmand} from '../gearman/gearmand-process.js'
import {ServeWorkerProcess} from '../worker/serve-worker-process.js'

/**
 * serve-worker and the controller over TLS with client certificates. Debian's gearmand is
 * built without TLS, so a Node TLS terminator that verifies client certificates stands in
 * front of it (as in test/integration/gearman/tls.test.ts).
 */
const dir = tempDir('lbt-agent-tls-')
const functionName = `lbt-tls-${uniqueSuffix()}`
let gearmand: Gearmand
let terminator: tls.Server
let tlsPort: number
let worker: ServeWorkerProcess | undefined
const peers: string[] = []

function openssl(args: string[]): void {
  execFileSync('openssl', args, {cwd: dir.path, stdio: 'ignore', timeout: 30_000})
}

function certificate(name: string, extensions?: string): void {
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`])
  const sign = ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2']
  if (extensions) {
    writeFileSync(join(dir.path, `${name}.ext`), extensions)
    sign.push('-extfile', `${name}.ext`)
  }
  openssl(sign)
}

const file = (name: string) => join(dir.path, name)

beforeAll(async () => {
  openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=lbt-ca'])
  certificate('server', 'subjectAltName=IP:127.0.0.1\n')
  certificate('agent')
  certificate('controller')
  gearmand = await Gearmand.start()
  terminator = tls.createServer(
    {key: readFileSync(file('server.key')), cert: readFileSync(file('server.pem')), ca: readFileSync(file('ca.pem')), requestCert: true, rejectUnauthorized: true},
    (secure) => {
      peers.push(String(secure.getPeerCertificate().subject?.CN))
      const plain = net.connect({host: '127.0.0.1', port: gearmand.port})
      secure.pipe(plain).pipe(secure)
      const close = () => {
        secure.destroy()
        plain.destroy()
      }
      secure.on('error', close)
      plain.on('error', close)
      secure.on('close', close)
      plain.on('close', close)
    },
  )
  await new Promise<void>((resolve) => terminator.listen(0, '127.0.0.1', resolve))
  tlsPort = (terminator.address() as net.AddressInfo).port
})

afterAll(async () => {
  try {
    await worker?.stop()
  } finally {
    await new Promise((resolve) => terminator?.close(resolve))
    await gearmand?.stop()
    dir.cleanup()
  }
})

describe('agents over TLS', () => {
  it('serve-worker connects with its client certificate; the controller finds it with LBAAS_GEARMAN_TLS_*', async () => {
    worker = await ServeWorkerProcess.start({
      dir: dir.path,
      ports: [tlsPort],
      // Registration is checked on the plain gearmand behind the terminator.
      waitOn: [gearmand.port],
      functionName,
      args: ['--tls-ca', file('ca.pem'), '--tls-cert', file('agent.pem'), '--tls-key', file('agent.key')],
    })
    expect(peers).toContain('agent')
    const controller = cliFor(dir.path, {
      LBAAS_STATE: file('controller.db'),
      LBAAS_GEARMAN_SERVERS: `127.0.0.1:${tlsPort}`,
      LBAAS_GEARMAN_TLS_CA: file('ca.pem'),
      LBAAS_GEARMAN_TLS_CERT: file('controller.pem'),
      LBAAS_GEARMAN_TLS_KEY: file('controller.key'),
    })
    const agents = await controller.json<AgentSummary[]>(['agent', 'list', '--json'])
    expect(agents.map(({name, alive}) => ({name, alive}))).toEqual([{name: functionName, alive: true}])
    expect(peers).toContain('controller')
  })

  it('a controller with only part of the TLS settings is refused (exit 2), not sent in plaintext', async () => {
    const controller = cliFor(dir.path, {
      LBAAS_STATE: file('controller.db'),
      LBAAS_GEARMAN_SERVERS: `127.0.0.1:${tlsPort}`,
      LBAAS_GEARMAN_TLS_CA: file('ca.pem'),
    })
    const result = await controller.run(['pool', 'create', '--name', 'p', '--subnet', 'none', '--protocol', 'TCP', '--lb-method', 'ROUND_ROBIN', '--agent', functionName, '--json'])
    expect(result.exitCode).toBe(2)
    expect(errorOf(result).code).toBe('tls_options_incomplete')
  })
})
