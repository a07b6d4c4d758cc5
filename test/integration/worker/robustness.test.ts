import {randomBytes} from 'node:crypto'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {adminStatus} from '../../../src/gearman/admin.js'
import {isAlive} from '../../../src/host/proc.js'
import {errorOf, lbaas} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'
import {uniqueSuffix} from '../../helpers/unique.js'
import {send} from '../../helpers/traffic.js'
import {waitFor} from '../../helpers/wait.js'
import {freePort, Gearmand} from '../gearman/gearmand-process.js'
import {gearmanJob, gearmanJobFromStdin, removeDeviceLeftovers, ServeWorkerProcess} from './serve-worker-process.js'
import {SwiftServer} from './swift-server.js'

/**
 * The worker process never exits on bad input, survives its job servers going away, and
 * stops cleanly (finishing running jobs, then unregistering). Libra device in host mode
 * (bound to 0.0.0.0 as Libra did) with a loopback backend.
 */
const dir = tempDir('lbt-robust-')
const functionName = `lbt-robust-${uniqueSuffix()}`
const TOKEN = `tok-${uniqueSuffix(12)}`
let primary: Gearmand
let secondaryPort: number
let secondary: Gearmand | undefined
let worker: ServeWorkerProcess
let backend: Server
let swift: SwiftServer
let devicePort: number

async function workersFor(port: number): Promise<number> {
  const status = await adminStatus({host: '127.0.0.1', port}, {timeoutMs: 2_000})
  return status.find((entry) => entry.function === functionName)?.availableWorkers ?? 0
}

beforeAll(async () => {
  primary = await Gearmand.start()
  secondaryPort = await freePort()
  backend = createServer((_request, response) => response.end('loopback backend\n'))
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve))
  swift = await SwiftServer.start(TOKEN)
  devicePort = await freePort()
  // The second job server is down when the worker starts.
  worker = await ServeWorkerProcess.start({dir: dir.path, ports: [primary.port, secondaryPort], waitOn: [primary.port], functionName})
})

afterAll(async () => {
  try {
    await worker?.stop()
    await removeDeviceLeftovers(dir.path)
  } finally {
    await primary?.stop()
    await secondary?.stop()
    await swift?.close()
    await new Promise((resolve) => backend?.close(resolve))
    dir.cleanup()
  }
})

describe('options that must refuse to start (exit 2, nothing started)', () => {
  it('TLS needs all three of --tls-ca, --tls-cert, --tls-key', async () => {
    const result = await lbaas(['serve-worker', '--state', `${dir.path}/other.db`, '--server', `127.0.0.1:${primary.port}`, '--tls-ca', '/etc/hostname', '--json'])
    expect(result.exitCode).toBe(2)
    expect(errorOf(result).code).toBe('tls_options_incomplete')
  })

  it('--device-subnet goes with --device-address, and must name a subnet of the state file', async () => {
    const half = await lbaas(['serve-worker', '--state', `${dir.path}/other.db`, '--server', `127.0.0.1:${primary.port}`, '--device-subnet', 'x', '--json'])
    expect([half.exitCode, errorOf(half).code]).toEqual([2, 'usage_error'])
    const unknown = await lbaas([
      'serve-worker', '--state', `${dir.path}/other.db`, '--run-dir', `${dir.path}/other-run`, '--server', `127.0.0.1:${primary.port}`,
      '--function', `${functionName}-x`, '--device-subnet', 'nosuch', '--device-address', '198.18.0.50', '--json',
    ])
    expect([unknown.exitCode, errorOf(unknown).code]).toEqual([5, 'not_found'])
  })
})

describe('bad input never stops the worker', () => {
  it.each([
    ['malformed JSON', '{"hpcs_action": "STATS"', /^Job data is not valid JSON/],
    ['a JSON list', '[1,2,3]', /^Job data must be a JSON object, not a list$/],
    ['a JSON string', '"STATS"', /^Job data must be a JSON object, not a string$/],
    ['a JSON number', '42', /^Job data must be a JSON object, not a number$/],
    ['JSON null', 'null', /^Job data must be a JSON object, not null$/],
  ])('%s gets a JSON FAIL', async (_name, payload, message) => {
    const answer = await gearmanJob(primary.port, functionName, payload)
    expect(answer.hpcs_response).toBe('FAIL')
    expect(answer.hpcs_error).toMatch(message)
    expect(worker.running).toBe(true)
  })

  it('an unknown action, Libra or native, gets a FAIL naming it', async () => {
    expect(await gearmanJob(primary.port, functionName, {hpcs_action: 'EXPLODE'})).toMatchObject({hpcs_response: 'FAIL'})
    expect(await gearmanJob(primary.port, functionName, {lbaas_action: 'EXPLODE', lbaas_version: 1})).toMatchObject({
      lbaas_response: 'FAIL',
      error: {code: 'invalid_lbaas_action', exit: 2},
    })
  })

  it('a native message of another protocol version is refused', async () => {
    expect(await gearmanJob(primary.port, functionName, {lbaas_action: 'DISCOVER', lbaas_version: 99})).toMatchObject({
      lbaas_response: 'FAIL',
      error: {code: 'unsupported_version'},
    })
  })

  it('a native job a controller gave up on long ago is not run', async () => {
    const answer = await gearmanJob(primary.port, functionName, {
      lbaas_action: 'UNDEPLOY',
      lbaas_version: 1,
      pool_id: '00000000-0000-4000-8000-00000000000a',
      expires_at: new Date(Date.now() - 60_000).toISOString(),
    })
    expect(answer).toMatchObject({lbaas_response: 'FAIL', error: {code: 'job_expired'}})
  })

  it('1 MB of random bytes (not UTF-8, not JSON) gets a JSON FAIL, and the next job is served', async () => {
    const answer = await gearmanJobFromStdin(primary.port, functionName, randomBytes(1024 * 1024))
    expect(answer.hpcs_response).toBe('FAIL')
    expect(await gearmanJob(primary.port, functionName, {hpcs_action: 'DISCOVER'})).toMatchObject({hpcs_response: 'PASS'})
    expect(isAlive(worker.pid)).toBe(true)
  })

  it('every job got one log line with its action, result and duration', () => {
    const jobs = worker.log().split('\n').filter((line) => line.includes('event=job'))
    expect(jobs.length).toBeGreaterThanOrEqual(10)
    for (const line of jobs) expect(line).toMatch(/ result=(PASS|FAIL|BAD_REQUEST) duration_ms=[\d.]+ handle=/)
    expect(jobs.some((line) => line.includes('action=DISCOVER') && line.includes('result=PASS'))).toBe(true)
  })
})

describe('job servers going away', () => {
  it('a job server killed and restarted mid-run: the worker reconnects and serves the next job', async () => {
    expect(await gearmanJob(primary.port, functionName, {hpcs_action: 'DISCOVER'})).toMatchObject({hpcs_response: 'PASS'})
    await primary.kill()
    await primary.restart()
    await worker.waitRegistered([primary.port])
    expect(await gearmanJob(primary.port, functionName, {hpcs_action: 'DISCOVER'})).toMatchObject({hpcs_response: 'PASS'})
    expect(worker.running).toBe(true)
  })

  it('two job servers with one down: served through the other; once it is up, through it too', async () => {
    expect(await workersFor(primary.port)).toBe(1)
    expect(await gearmanJob(primary.port, functionName, {hpcs_action: 'DISCOVER'})).toMatchObject({hpcs_response: 'PASS'})
    secondary = await Gearmand.start(secondaryPort)
    await worker.waitRegistered([secondaryPort])
    expect(await gearmanJob(secondaryPort, functionName, {hpcs_action: 'DISCOVER'})).toMatchObject({hpcs_response: 'PASS'})
    expect(await gearmanJob(primary.port, functionName, {hpcs_action: 'DISCOVER'})).toMatchObject({hpcs_response: 'PASS'})
  })
})

describe('host mode, quick jobs during slow ones, and a clean stop', () => {
  it('UPDATE without --device-*: HAProxy in the host namespace, bound to 0.0.0.0', async () => {
    const backendPort = (backend.address() as AddressInfo).port
    const answer = await gearmanJob(primary.port, functionName, {
      hpcs_action: 'UPDATE',
      loadBalancers: [{protocol: 'HTTP', port: devicePort, nodes: [{id: 1, address: '127.0.0.1', port: backendPort}]}],
    })
    expect(answer.hpcs_response).toBe('PASS')
    const reply = await send('127.0.0.1', devicePort)
    expect(reply.body).toBe('loopback backend\n')
  })

  it('SIGTERM while a job runs: STATS and UPDATE still answered meanwhile; the job finishes, then the worker unregisters and exits 0', async () => {
    const hold = swift.holdNext()
    const archive = gearmanJob(primary.port, functionName, {
      hpcs_action: 'ARCHIVE',
      hpcs_object_store_type: 'swift',
      hpcs_object_store_basepath: 'logs',
      hpcs_object_store_endpoint: swift.endpoint,
      hpcs_object_store_token: TOKEN,
      loadBalancers: [{id: 'lb1', protocol: 'HTTP'}],
    })
    await hold.reached
    // The ARCHIVE is in the middle of its upload: a ping and an UPDATE do not wait for it.
    expect(await gearmanJob(primary.port, functionName, {hpcs_action: 'STATS'})).toMatchObject({hpcs_response: 'PASS'})
    const backendPort = (backend.address() as AddressInfo).port
    expect(
      await gearmanJob(primary.port, functionName, {
        hpcs_action: 'UPDATE',
        loadBalancers: [{protocol: 'HTTP', port: devicePort, algorithm: 'LEAST_CONNECTIONS', nodes: [{id: 1, address: '127.0.0.1', port: backendPort}]}],
      }),
    ).toMatchObject({hpcs_response: 'PASS'})

    process.kill(worker.pid, 'SIGTERM')
    await waitFor('the worker to log that it is stopping', () => worker.log().includes('event=stopping'))
    expect(worker.running).toBe(true)
    hold.release()
    expect(await archive).toMatchObject({hpcs_response: 'PASS', hpcs_object_store_token: '*****'})
    expect(await worker.waitExit()).toBe(0)
    expect(await workersFor(primary.port)).toBe(0)
    expect(await workersFor(secondaryPort)).toBe(0)
    // The data plane outlives its control plane: the device keeps serving.
    expect((await send('127.0.0.1', devicePort)).status).toBe(200)
  })

  it('a restarted worker takes its device back from the state file; DELETE removes it', async () => {
    worker = await ServeWorkerProcess.start({dir: dir.path, ports: [primary.port], functionName})
    expect(await gearmanJob(primary.port, functionName, {hpcs_action: 'STATS'})).toMatchObject({hpcs_response: 'PASS', nodes: [{id: '1'}]})
    expect(await gearmanJob(primary.port, functionName, {hpcs_action: 'DELETE'})).toMatchObject({hpcs_response: 'PASS'})
    await expect(send('127.0.0.1', devicePort, {timeoutMs: 2_000})).rejects.toThrow()
  })
})
