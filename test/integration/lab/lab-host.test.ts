/**
 * Lab backends as `lbaas lab` runs them: a namespace on a private bridge (claimed test /24),
 * the server started detached inside it, health switched through the control dir.
 */
import {request} from 'node:http'
import {rmSync, writeFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {deleteBridge, deleteLink, ensureBridge, inspectLink, linkExists, listLinks} from '../../../src/host/links.js'
import {deleteNamespaces, listNamespaces, namespaceExists, processInNamespace} from '../../../src/host/netns.js'
import {run} from '../../../src/host/run.js'
import {isAlive, readProcessStat} from '../../../src/host/proc.js'
import {backendStatus, labHostLinkFor, setBackendHealth, startBackend, stopBackend, type BackendSpec} from '../../../src/lab/lab-host.js'
import {labBackendScript} from '../../helpers/lab-backend.js'
import {tempDir} from '../../helpers/tmp.js'
import {claimTestCidr, uniqueSuffix} from '../../helpers/unique.js'

const prefix = `lbt${uniqueSuffix(6)}`
const bridge = `${prefix}br`
const cidr = claimTestCidr()
const dir = tempDir('lbaas-lab-')
let script: string

function spec(index: number, overrides: Partial<BackendSpec> = {}): BackendSpec & {hostLink: string} {
  return {
    namespace: `${prefix}n${index}`,
    hostLink: `${prefix}h${index}`,
    bridge,
    address: `${cidr.base}.${10 + index}`,
    prefixLength: 24,
    gateway: `${cidr.base}.1`,
    name: `backend-${index}`,
    port: 8000,
    controlDir: `${dir.path}/backend-${index}`,
    script,
    ...overrides,
  }
}

function get(host: string, path: string): Promise<{status: number; body: string; backend?: string}> {
  return new Promise((resolve, reject) => {
    // agent: false, so no idle keep-alive connection outlives the test.
    const req = request({host, port: 8000, path, timeout: 5_000, agent: false}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode!, body, backend: res.headers['x-backend'] as string | undefined}))
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', reject)
    req.end()
  })
}

beforeAll(async () => {
  script = await labBackendScript()
  await ensureBridge(bridge, {gatewayCidr: `${cidr.base}.1/24`})
})

afterAll(async () => {
  try {
    for (const index of [1, 2, 3]) await stopBackend({namespace: spec(index).namespace, hostLink: spec(index).hostLink, controlDir: spec(index).controlDir}).catch(() => undefined)
    await deleteNamespaces(listNamespaces(prefix)).catch(() => undefined)
    for (const link of listLinks(prefix)) if (link !== bridge) await deleteLink(link).catch(() => undefined)
    await deleteBridge(bridge).catch(() => undefined)
  } finally {
    cidr.release()
    dir.cleanup()
  }
})

describe('lab backends', () => {
  it('start in their own namespace on the bridge and answer with their name', async () => {
    const first = await startBackend(spec(1))
    const second = await startBackend(spec(2))
    expect(first.started).toBe(true)
    expect(first.plug.changes.map((change) => change.kind)).toEqual(['namespace', 'veth', 'address', 'route'])
    expect(isAlive(first.pid)).toBe(true)
    expect(readProcessStat(first.pid)?.comm).toBe('node')
    expect(inspectLink(spec(1).hostLink)).toMatchObject({master: bridge, up: true})
    expect(await get(`${cidr.base}.11`, '/')).toEqual({status: 200, body: 'backend-1\n', backend: 'backend-1'})
    expect(await get(`${cidr.base}.12`, '/')).toMatchObject({body: 'backend-2\n'})
    expect(backendStatus(spec(1))).toEqual({
      namespace: spec(1).namespace,
      namespaceExists: true,
      running: true,
      pid: first.pid,
      healthy: true,
      listening: true,
    })
    expect(second.pid).not.toBe(first.pid)
  })

  it('are idempotent: starting a running backend keeps it', async () => {
    const before = backendStatus(spec(1)).pid
    const again = await startBackend(spec(1))
    expect(again).toMatchObject({pid: before, started: false})
    expect(again.plug.changes).toEqual([])
  })

  it('replace a recorded server left in a namespace that was deleted and re-created', async () => {
    const old = backendStatus(spec(1)).pid!
    // The running server keeps the unnamed old namespace alive; remove its veth so nothing answers there.
    await run(['ip', 'netns', 'del', spec(1).namespace])
    await deleteLink(spec(1).hostLink)
    const replaced = await startBackend(spec(1))
    expect(replaced.started).toBe(true)
    expect(replaced.pid).not.toBe(old)
    expect(isAlive(old)).toBe(false)
    expect(processInNamespace(replaced.pid, spec(1).namespace)).toBe(true)
    expect(await get(`${cidr.base}.11`, '/')).toMatchObject({body: 'backend-1\n'})
  })

  it('replace a server of this control dir that no identity record names (started by an lbaas that wrote none)', async () => {
    const old = backendStatus(spec(1)).pid!
    rmSync(`${spec(1).controlDir}/backend.identity`)
    rmSync(`${spec(1).controlDir}/backend.pid`)
    expect(backendStatus(spec(1)).running).toBe(false)
    // Without the stop first, the new server could not bind: the old one holds its port.
    const replaced = await startBackend(spec(1))
    expect(replaced.started).toBe(true)
    expect(replaced.pid).not.toBe(old)
    expect(isAlive(old)).toBe(false)
    expect(backendStatus(spec(1))).toMatchObject({running: true, pid: replaced.pid, listening: true})
    expect(await get(`${cidr.base}.11`, '/')).toMatchObject({body: 'backend-1\n'})
  })

  it('fail /healthz with 500 while marked unhealthy', async () => {
    setBackendHealth(spec(2).controlDir, false)
    expect((await get(`${cidr.base}.12`, '/healthz')).status).toBe(500)
    expect(backendStatus(spec(2)).healthy).toBe(false)
    expect((await get(`${cidr.base}.12`, '/')).status).toBe(200)
    setBackendHealth(spec(2).controlDir, true)
    expect(await get(`${cidr.base}.12`, '/healthz')).toMatchObject({status: 200, body: 'ok\n'})
    expect(backendStatus(spec(2)).healthy).toBe(true)
  })

  it('stop: process gone, namespace and veth removed, idempotently', async () => {
    const {pid} = backendStatus(spec(2))
    expect(await stopBackend(spec(2))).toEqual({stopped: true, namespaceDeleted: true})
    expect(isAlive(pid!)).toBe(false)
    expect(namespaceExists(spec(2).namespace)).toBe(false)
    expect(linkExists(spec(2).hostLink)).toBe(false)
    expect(backendStatus(spec(2))).toMatchObject({running: false, namespaceExists: false, listening: false})
    expect(await stopBackend(spec(2))).toEqual({stopped: false, namespaceDeleted: false})
  })

  it('stop finds a server whose pid file was lost', async () => {
    const {pid} = backendStatus(spec(1))
    writeFileSync(`${spec(1).controlDir}/backend.pid`, '')
    expect(await stopBackend(spec(1))).toEqual({stopped: true, namespaceDeleted: true})
    expect(isAlive(pid!)).toBe(false)
  })

  it('report a server that cannot listen, with its log', async () => {
    await startBackend(spec(3))
    // A second server in the same namespace on the same port cannot bind.
    const clash = spec(3, {controlDir: `${dir.path}/clash`, name: 'clash'})
    await expect(startBackend(clash)).rejects.toMatchObject({code: 'lab_backend_failed', message: expect.stringMatching(/EADDRINUSE/)})
    expect(backendStatus(spec(3)).running).toBe(true)
    await stopBackend(spec(3))
  })

  it('refuse to start without the compiled server', async () => {
    await expect(startBackend(spec(4, {script: `${dir.path}/missing.js`}))).rejects.toMatchObject({code: 'lab_backend_missing'})
    expect(namespaceExists(spec(4).namespace)).toBe(false)
  })

  it('derive the host link of a lab- namespace', () => {
    expect(labHostLinkFor('lab-a1b2c3d4-7')).toBe('lbla1b2c3d47')
    expect(() => labHostLinkFor(`${prefix}n1`)).toThrow(/pass hostLink/)
  })
})
