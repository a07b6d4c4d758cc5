import {createServer, type Server} from 'node:http'
import {createServer as createNetServer, type AddressInfo} from 'node:net'

import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {poolPaths, type PoolPaths} from '../../../src/host/names.js'
import {killPoolHaproxy} from '../../helpers/pool-crash.js'
import {tempDir} from '../../helpers/tmp.js'
import {send} from '../../helpers/traffic.js'
import {uniqueSuffix} from '../../helpers/unique.js'
import {freePort, Gearmand} from '../gearman/gearmand-process.js'
import {gearmanJob, removeDeviceLeftovers, ServeWorkerProcess} from './serve-worker-process.js'

/**
 * METRICS byte accounting (SPEC §5, libra.md §3.6): bytes_out since the last report, across
 * reloads, SUSPEND/ENABLE, a worker restart and an HAProxy crash, never counted twice.
 * Every answer of the loopback backend has the same size, so the expected figure is
 * (bytes per request) × (requests since the last report), exactly.
 */
const dir = tempDir('lbt-metrics-')
const functionName = `lbt-metrics-${uniqueSuffix()}`
let gearmand: Gearmand
let worker: ServeWorkerProcess
let backend: Server
let devicePort: number
let bytesPerRequest = 0

const job = (payload: unknown) => gearmanJob(gearmand.port, functionName, payload)

async function requests(count: number): Promise<void> {
  for (let index = 0; index < count; index++) expect((await send('127.0.0.1', devicePort)).status).toBe(200)
}

async function reported(): Promise<number> {
  const answer = await job({hpcs_action: 'METRICS'})
  expect(answer.hpcs_response).toBe('PASS')
  const http = (answer.loadBalancers as {protocol: string; bytes_out: number}[]).find((lb) => lb.protocol === 'http')
  return http?.bytes_out ?? 0
}

function update(algorithm: string) {
  const backendPort = (backend.address() as AddressInfo).port
  return job({
    hpcs_action: 'UPDATE',
    loadBalancers: [{protocol: 'HTTP', port: devicePort, algorithm, nodes: [{id: 1, address: '127.0.0.1', port: backendPort}]}],
  })
}

function devicePaths(): PoolPaths {
  const db = new Database(`${dir.path}/state.db`, {readonly: true})
  try {
    const {id} = db.prepare('SELECT id FROM libra_device').get() as {id: string}
    return poolPaths(`${dir.path}/run`, id)
  } finally {
    db.close()
  }
}

beforeAll(async () => {
  gearmand = await Gearmand.start()
  backend = createServer((_request, response) => {
    response.writeHead(200, {'Content-Type': 'text/plain', Date: 'Thu, 01 Jan 2026 00:00:00 GMT'})
    response.end('a fixed-size answer\n')
  })
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
  devicePort = await freePort()
  worker = await ServeWorkerProcess.start({dir: dir.path, ports: [gearmand.port], functionName})
  expect((await update('ROUND_ROBIN')).hpcs_response).toBe('PASS')
})

afterAll(async () => {
  try {
    if (worker?.running) await job({hpcs_action: 'DELETE'}).catch(() => undefined)
    await worker?.stop()
    await removeDeviceLeftovers(dir.path)
  } finally {
    await gearmand?.stop()
    await new Promise((resolve) => backend?.close(resolve))
    dir.cleanup()
  }
})

describe('METRICS across reloads, stops, restarts', () => {
  it('reports what was served since the last report', async () => {
    await requests(5)
    const first = await reported()
    expect(first % 5).toBe(0)
    bytesPerRequest = first / 5
    expect(bytesPerRequest).toBeGreaterThan(50)
    expect(await reported()).toBe(0)
  })

  it('a reload between reports (UPDATE): nothing counted twice, nothing lost', async () => {
    await requests(3)
    expect((await update('LEAST_CONNECTIONS')).hpcs_response).toBe('PASS')
    await requests(4)
    expect(await reported()).toBe(7 * bytesPerRequest)
  })

  it('an UPDATE whose reload fails (port taken) is rolled back, and the counters are neither lost nor doubled', async () => {
    const blocker = createNetServer()
    await new Promise<void>((resolve) => blocker.listen(0, '0.0.0.0', resolve))
    try {
      await requests(2)
      const backendPort = (backend.address() as AddressInfo).port
      const refused = await job({
        hpcs_action: 'UPDATE',
        loadBalancers: [
          {protocol: 'HTTP', port: devicePort, nodes: [{id: 1, address: '127.0.0.1', port: backendPort}]},
          {protocol: 'TCP', port: (blocker.address() as AddressInfo).port, nodes: [{id: 2, address: '127.0.0.1', port: backendPort}]},
        ],
      })
      expect(refused.hpcs_response).toBe('FAIL')
      await requests(1)
      expect(await reported()).toBe(3 * bytesPerRequest)
    } finally {
      await new Promise((resolve) => blocker.close(resolve))
    }
  })

  it('SUSPEND keeps what was served; ENABLE starts counting from there', async () => {
    await requests(2)
    expect((await job({hpcs_action: 'SUSPEND'})).hpcs_response).toBe('PASS')
    expect(await reported()).toBe(2 * bytesPerRequest)
    expect(await reported()).toBe(0)
    expect((await job({hpcs_action: 'ENABLE'})).hpcs_response).toBe('PASS')
    await requests(3)
    expect(await reported()).toBe(3 * bytesPerRequest)
  })

  it('a worker restart (HAProxy keeps running) neither loses nor repeats bytes', async () => {
    await requests(3)
    expect(await worker.stop()).toBe(0)
    await requests(2)
    worker = await ServeWorkerProcess.start({dir: dir.path, ports: [gearmand.port], functionName})
    await requests(1)
    expect(await reported()).toBe(6 * bytesPerRequest)
  })

  it('an HAProxy crash: the worker start brings it back, and counting goes on from the last report', async () => {
    await requests(2)
    expect(await reported()).toBe(2 * bytesPerRequest)
    expect(await worker.stop()).toBe(0)
    await killPoolHaproxy(devicePaths())
    worker = await ServeWorkerProcess.start({dir: dir.path, ports: [gearmand.port], functionName})
    await requests(4)
    expect(await reported()).toBe(4 * bytesPerRequest)
  })
})
