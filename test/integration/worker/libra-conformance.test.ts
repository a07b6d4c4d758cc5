import {createServer, type Server} from 'node:net'
import {existsSync, readFileSync} from 'node:fs'
import {gunzipSync} from 'node:zlib'

import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {namespaceExists} from '../../../src/host/netns.js'
import {lbaasVersion} from '../../../src/worker/version.js'
import {send, tally, backendsSeen} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {uniqueSuffix} from '../../helpers/unique.js'
import {waitFor} from '../../helpers/wait.js'
import {Gearmand} from '../gearman/gearmand-process.js'
import {gearmanJob, retireWorker, ServeWorkerProcess} from './serve-worker-process.js'
import {SwiftServer} from './swift-server.js'

/**
 * Libra conformance (SPEC §5, reference/libra.md §2): a real gearmand, `lbaas serve-worker`
 * with its device in a namespace on a lab subnet, and Libra JSON sent with the `gearman`
 * command-line client, as Libra's API would. Then the device must really serve traffic
 * after UPDATE, stop after SUSPEND, serve again after ENABLE and be gone after DELETE.
 */
const world = trafficLab('libra')
const functionName = `lbt-libra-${uniqueSuffix()}`
const TOKEN = `tok-${uniqueSuffix(12)}`
let gearmand: Gearmand
let worker: ServeWorkerProcess
let lab: LabInfo
let swift: SwiftServer
let target: Server
let deviceAddress: string
const PORT = 8080

const job = (payload: unknown) => gearmanJob(gearmand.port, functionName, payload)

function deviceId(): string {
  const db = new Database(`${world.dir}/state.db`, {readonly: true})
  try {
    return (db.prepare('SELECT id FROM libra_device').get() as {id: string}).id
  } finally {
    db.close()
  }
}

function httpLoadBalancer(extra: Record<string, unknown> = {}) {
  return {
    name: 'lb1',
    protocol: 'HTTP',
    algorithm: 'ROUND_ROBIN',
    port: PORT,
    nodes: [
      {id: 1, address: lab.backend(1).address, port: 8000, weight: 1, condition: 'ENABLED', backup: 'FALSE'},
      {id: 2, address: lab.backend(2).address, port: 8000, weight: 1, condition: 'ENABLED', backup: 'FALSE'},
    ],
    monitor: {type: 'HTTP', delay: 1, timeout: 1, attempts: 1, path: '/healthz'},
    options: {client_timeout: 30000, server_timeout: 30000, connect_timeout: 30000, connect_retries: 3},
    ...extra,
  }
}

beforeAll(async () => {
  gearmand = await Gearmand.start()
  lab = await world.lab(2)
  deviceAddress = `${lab.base}.50`
  swift = await SwiftServer.start(TOKEN)
  target = createServer((socket) => socket.destroy())
  await new Promise<void>((resolve) => target.listen(0, '127.0.0.1', resolve))
  const targetPort = (target.address() as {port: number}).port
  worker = await ServeWorkerProcess.start({
    dir: world.dir,
    ports: [gearmand.port],
    functionName,
    args: ['--device-subnet', lab.subnet, '--device-address', deviceAddress, '--diagnostics-target', `127.0.0.1:${targetPort}`],
  })
})

afterAll(async () => {
  try {
    await retireWorker(worker, world.dir, job)
  } finally {
    await world.cleanup()
    await gearmand?.stop()
    await swift?.close()
    await new Promise((resolve) => target?.close(resolve))
  }
})

describe('before any UPDATE', () => {
  it('testDiscover: DISCOVER answers version and release', async () => {
    expect(await job({hpcs_action: 'DISCOVER'})).toEqual({
      hpcs_action: 'DISCOVER',
      version: lbaasVersion(),
      release: `lbaas ${lbaasVersion()}`,
      hpcs_response: 'PASS',
    })
  })

  it('STATS and METRICS say DELETED: there is no load balancer yet', async () => {
    expect(await job({hpcs_action: 'STATS'})).toEqual({
      hpcs_action: 'STATS',
      status: 'DELETED',
      hpcs_response: 'FAIL',
      hpcs_error: 'Invalid operation STATS on a deleted LB.',
    })
    expect(await job({hpcs_action: 'METRICS'})).toMatchObject({status: 'DELETED', hpcs_response: 'FAIL'})
  })

  it('ENABLE without a configuration fails and says why', async () => {
    expect(await job({hpcs_action: 'ENABLE'})).toMatchObject({hpcs_response: 'FAIL', hpcs_error: 'No configuration to enable: send UPDATE first'})
  })
})

describe('every badRequest message, through the gearman CLI', () => {
  const node = {id: 1, address: '10.0.0.1', port: 80}
  it.each([
    [{hpcs_action: 'UPDATE'}, "Missing 'loadBalancers' element"],
    [{hpcs_action: 'UPDATE', LoAdBaLaNcErS: [{protocol: 'http', nodes: [node]}]}, "Missing 'loadBalancers' element"],
    [{hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http'}]}, "Missing 'nodes' element"],
    [{hpcs_action: 'UPDATE', loadBalancers: [{nodes: [node]}]}, "Missing required 'protocol' value."],
    [{hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', nodes: [node], monitor: {delay: 1, timeout: 1, attempts: 1}}]}, "Missing monitor value 'type'"],
    [{hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', nodes: [node], monitor: {type: 'HTTP', timeout: 1, attempts: 1}}]}, "Missing monitor value 'delay'"],
    [{hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', nodes: [node], monitor: {type: 'HTTP', delay: 1, attempts: 1}}]}, "Missing monitor value 'timeout'"],
    [{hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', nodes: [node], monitor: {type: 'HTTP', delay: 1, timeout: 1}}]}, "Missing monitor value 'attempts'"],
    [{hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', nodes: [{id: 1, address: '10.0.0.1'}]}]}, "Missing node 'port'"],
    [{hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', nodes: [{id: 1, port: 80}]}]}, "Missing node 'address'"],
    [{hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', nodes: [{address: '10.0.0.1', port: 80}]}]}, "Missing node 'id'"],
    [{hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', nodes: [{id: '', address: '10.0.0.1', port: 80}]}]}, "Missing node 'id'"],
    [{hpcs_action: 'ARCHIVE'}, "Missing 'hpcs_object_store_type' element"],
    [{hpcs_action: 'ARCHIVE', hpcs_object_store_type: 'bad'}, "'bad' is not a valid store type"],
    [{hpcs_action: 'ARCHIVE', hpcs_object_store_type: 'Swift'}, "Missing 'hpcs_object_store_basepath' element"],
    [{hpcs_action: 'ARCHIVE', hpcs_object_store_type: 'Swift', hpcs_object_store_basepath: 'b'}, "Missing 'hpcs_object_store_endpoint' element"],
    [
      {hpcs_action: 'ARCHIVE', hpcs_object_store_type: 'Swift', hpcs_object_store_basepath: 'b', hpcs_object_store_endpoint: 'http://x'},
      "Missing 'hpcs_object_store_token' element",
    ],
    [
      {hpcs_action: 'ARCHIVE', hpcs_object_store_type: 'Swift', hpcs_object_store_basepath: 'b', hpcs_object_store_endpoint: 'http://x', hpcs_object_store_token: 't'},
      "Missing 'loadBalancers' element",
    ],
  ])('%j → %s', async (request, message) => {
    expect(await job(request)).toEqual({
      badRequest: {code: '400', message: 'Validation fault', details: 'The object is not valid', validationErrors: {message}},
    })
  })
})

describe("Libra's failure cases (libra.md §2.2, §4)", () => {
  it('testBadAction: an unknown action is FAIL with the echo', async () => {
    expect(await job({hpcs_action: 'BOGUS'})).toEqual({hpcs_action: 'BOGUS', hpcs_response: 'FAIL', hpcs_error: "Invalid 'hpcs_action' value: BOGUS"})
  })

  it('a missing hpcs_action is FAIL with the echo', async () => {
    expect(await job({loadBalancers: []})).toMatchObject({loadBalancers: [], hpcs_response: 'FAIL'})
  })

  it('weight 300: FAIL, hpcs_error, the node DISABLED (the exact response of libra.md)', async () => {
    expect(await job({hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'http', nodes: [{id: 1, address: '10.0.0.1', port: 80, weight: 300}]}]})).toEqual({
      hpcs_action: 'UPDATE',
      hpcs_error: "Failure adding server 1: Server 'weight' 300 exceeds max of 256",
      hpcs_response: 'FAIL',
      loadBalancers: [{nodes: [{address: '10.0.0.1', condition: 'DISABLED', id: 1, port: 80, weight: 300}], protocol: 'http'}],
    })
  })

  it('TCP without a port: FAIL, nodes without condition, and (unlike Libra) the reason', async () => {
    expect(await job({hpcs_action: 'UPDATE', loadBalancers: [{protocol: 'tcp', nodes: [{id: 1, address: '10.0.0.1', port: 80}]}]})).toEqual({
      hpcs_action: 'UPDATE',
      hpcs_response: 'FAIL',
      hpcs_error: 'Port is required for this protocol.',
      loadBalancers: [{nodes: [{address: '10.0.0.1', id: 1, port: 80}], protocol: 'tcp'}],
    })
  })

  it.each([
    [[{protocol: 'http', algorithm: 'BOGUS', nodes: [{id: 1, address: '10.0.0.1', port: 80}]}], 'Invalid algorithm: BOGUS'],
    [[{protocol: 'tnetennba', nodes: [{id: 1, address: '10.0.0.1', port: 80}]}], 'Unsupported protocol: tnetennba'],
    [[{protocol: 'http', nodes: []}], 'No nodes given for the HTTP load balancer'],
    [
      [{protocol: 'galera', port: 3306, nodes: [{id: 1, address: '10.0.0.1', port: 3306}, {id: 2, address: '10.0.0.2', port: 3306}]}],
      'Failure adding server 2: Galera protocol does not accept more than one non-backup node',
    ],
  ])('%j → FAIL %s', async (loadBalancers, message) => {
    expect(await job({hpcs_action: 'UPDATE', loadBalancers})).toMatchObject({hpcs_response: 'FAIL', hpcs_error: message})
  })
})

describe('the device serves traffic', () => {
  it('UPDATE (the production-shaped request) answers the echo plus PASS, and the device serves both nodes', async () => {
    const request = {hpcs_action: 'UPDATE', loadBalancers: [httpLoadBalancer()]}
    const response = await job(request)
    const expected = structuredClone(request) as Record<string, any>
    for (const node of expected.loadBalancers[0].nodes) node.condition = 'ENABLED'
    expect(response).toEqual({...expected, hpcs_response: 'PASS'})

    const result = await tally(deviceAddress, PORT, 10)
    expect(result.errors).toEqual([])
    expect(backendsSeen(result).sort()).toEqual([lab.backend(1).name, lab.backend(2).name])
    expect(namespaceExists(`lbaas-${deviceId()}`)).toBe(true)
  })

  it('STATS: both nodes UP once the HTTP checks passed', async () => {
    const stats = await waitFor('both nodes UP', async () => {
      const answer = await job({hpcs_action: 'STATS'})
      return answer.nodes?.every((node: {status: string}) => node.status === 'UP') ? answer : undefined
    })
    expect(stats).toEqual({hpcs_action: 'STATS', hpcs_response: 'PASS', nodes: [{id: '1', status: 'UP'}, {id: '2', status: 'UP'}]})
  })

  it('METRICS: bytes out of the http LB since the last report, Libra\'s timestamp format', async () => {
    const first = await job({hpcs_action: 'METRICS'})
    expect(first.hpcs_response).toBe('PASS')
    expect(first.utc_start).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/)
    expect(first.utc_end).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/)
    expect(first.loadBalancers).toEqual([{protocol: 'http', bytes_out: expect.any(Number)}])
    expect(first.loadBalancers[0].bytes_out).toBeGreaterThan(0)
    const second = await job({hpcs_action: 'METRICS'})
    expect(second.loadBalancers).toEqual([{protocol: 'http', bytes_out: 0}])
    expect(second.utc_start > first.utc_end).toBe(true)
  })

  it('a hostile UPDATE (a newline in the monitor path) fails and changes nothing on the host', async () => {
    const configPath = `${world.dir}/run/${deviceId()}/haproxy.cfg`
    const before = readFileSync(configPath, 'utf8')
    const hostile = httpLoadBalancer({monitor: {type: 'HTTP', delay: 1, timeout: 1, attempts: 1, path: '/x\n    bind 0.0.0.0:1'}})
    expect(await job({hpcs_action: 'UPDATE', loadBalancers: [hostile]})).toMatchObject({hpcs_response: 'FAIL'})
    expect(readFileSync(configPath, 'utf8')).toBe(before)
    expect((await send(deviceAddress, PORT)).status).toBe(200)
  })

  it('UUID node ids work: STATS reports them back', async () => {
    const ids = ['6f1c2b3a-8d4e-4f5a-9b6c-7d8e9f0a1b2c', '7a2d3c4b-9e5f-4a6b-8c7d-8e9f0a1b2c3d']
    const lb = httpLoadBalancer({
      nodes: ids.map((id, index) => ({id, address: lab.backend(index + 1).address, port: 8000})),
    })
    expect(await job({hpcs_action: 'UPDATE', loadBalancers: [lb]})).toMatchObject({hpcs_response: 'PASS'})
    const stats = await job({hpcs_action: 'STATS'})
    expect(stats.nodes.map((node: {id: string}) => node.id).sort()).toEqual([...ids].sort())
  })

  it('ARCHIVE uploads the http log lines to Swift with the token and an MD5 ETag; the token is redacted in the answer', async () => {
    await tally(deviceAddress, PORT, 3)
    const request = {
      hpcs_action: 'ARCHIVE',
      hpcs_object_store_type: 'Swift',
      hpcs_object_store_basepath: 'lbaaslogs',
      hpcs_object_store_endpoint: swift.endpoint,
      hpcs_object_store_token: TOKEN,
      loadBalancers: [{id: '15', name: 'lb #1', protocol: 'HTTP'}],
    }
    expect(await job(request)).toEqual({...request, hpcs_object_store_token: '*****', hpcs_response: 'PASS'})
    const [container, object] = swift.requests.slice(-2)
    expect(container).toMatchObject({method: 'PUT', path: '/v1/AUTH_test/lbaaslogs', token: TOKEN, status: 201})
    expect(object!.path).toMatch(/^\/v1\/AUTH_test\/lbaaslogs\/15\/haproxy-\d{8}-\d{6}\.log\.gz$/)
    expect(object!.status).toBe(201)
    const lines = gunzipSync(object!.body).toString('utf8').trim().split('\n')
    expect(lines.length).toBeGreaterThanOrEqual(3)
    expect(lines.every((line) => line.includes('http-in') || line.includes('http-servers'))).toBe(true)
    expect(worker.log()).not.toContain(TOKEN)
  })

  it('ARCHIVE with a wrong token: Libra\'s Swift failure message; TCP logs of an HTTP-only device: none found', async () => {
    await tally(deviceAddress, PORT, 1)
    const request = {
      hpcs_action: 'ARCHIVE',
      hpcs_object_store_type: 'swift',
      hpcs_object_store_basepath: 'lbaaslogs',
      hpcs_object_store_endpoint: swift.endpoint,
      hpcs_object_store_token: 'wrong',
      loadBalancers: [{id: '15', protocol: 'HTTP'}],
    }
    const refused = await job(request)
    expect(refused.hpcs_response).toBe('FAIL')
    expect(refused.hpcs_error).toMatch(/^Failure during Swift operations\. Swift enabled\?\nException was: .*401/)
    expect(refused.hpcs_object_store_token).toBe('*****')
    const tcp = await job({...request, hpcs_object_store_token: TOKEN, loadBalancers: [{id: '16', protocol: 'TCP'}]})
    expect(tcp).toMatchObject({hpcs_response: 'FAIL', hpcs_error: 'No HAProxy logs found'})
  })

  it('DIAGNOSTICS: every job server and the configured target (no internet host)', async () => {
    const response = await job({hpcs_action: 'DIAGNOSTICS'})
    expect(response).toMatchObject({
      hpcs_response: 'PASS',
      network: 'PASS',
      gearman: [{host: '127.0.0.1', port: gearmand.port, status: 'PASS'}],
    })
    expect(response.network_targets).toHaveLength(1)
  })

  it('SUSPEND stops serving and keeps the configuration; STATS still passes', async () => {
    expect(await job({hpcs_action: 'SUSPEND'})).toEqual({hpcs_action: 'SUSPEND', hpcs_response: 'PASS'})
    await expect(send(deviceAddress, PORT, {timeoutMs: 2_000})).rejects.toThrow()
    expect(await job({hpcs_action: 'STATS'})).toMatchObject({hpcs_response: 'PASS', status: 'SUSPENDED'})
    expect(existsSync(`${world.dir}/run/${deviceId()}/haproxy.cfg`)).toBe(true)
  })

  it('ENABLE serves again', async () => {
    expect(await job({hpcs_action: 'ENABLE'})).toEqual({hpcs_action: 'ENABLE', hpcs_response: 'PASS'})
    const result = await tally(deviceAddress, PORT, 4)
    expect(result.ok).toBe(4)
  })

  it('DELETE: gone (no HAProxy, no namespace), and STATS/METRICS say DELETED', async () => {
    const id = deviceId()
    expect(await job({hpcs_action: 'DELETE'})).toEqual({hpcs_action: 'DELETE', hpcs_response: 'PASS'})
    await expect(send(deviceAddress, PORT, {timeoutMs: 2_000})).rejects.toThrow()
    expect(namespaceExists(`lbaas-${id}`)).toBe(false)
    expect(existsSync(`${world.dir}/run/${id}`)).toBe(false)
    expect(await job({hpcs_action: 'STATS'})).toMatchObject({status: 'DELETED', hpcs_error: 'Invalid operation STATS on a deleted LB.'})
    expect(await job({hpcs_action: 'METRICS'})).toMatchObject({status: 'DELETED', hpcs_error: 'Invalid operation METRICS on a deleted LB.'})
    expect(worker.running).toBe(true)
  })
})
