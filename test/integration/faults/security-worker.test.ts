/**
 * Issue 6, part 5, the worker side: Libra and native messages whose every field in turn
 * holds a path (`../..`, absolute), shell syntax (`$(…)`, `;`, backticks), a NUL or a
 * newline. Each gets a JSON answer (refused, or accepted with the value neutralised), the
 * worker keeps running, and afterwards: nothing named after the payloads exists in /tmp,
 * the worker's directory changed only inside its run dir's own entries, every program the
 * worker ran (LBAAS_DEBUG=1 trace in its log) is one it is meant to run with paths only
 * under its directory, and the state file's WAL and shared memory are private too.
 */
import {lstatSync, readdirSync, readFileSync} from 'node:fs'

import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {GearmanClient} from '../../../src/gearman/client.js'
import {namespaceExists} from '../../../src/host/netns.js'
import {tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {Gearmand} from '../gearman/gearmand-process.js'
import {retireWorker, ServeWorkerProcess} from '../worker/serve-worker-process.js'
import {auditArgv, tracedCommands} from './argv-audit.js'
import {deployMessage, nativePoolIds} from './native-pool.js'

const world = trafficLab('secw')
const functionName = `lbt-secw-${world.suffix}`
const PWN = `lbt-pwn-${world.suffix}`
const PORT = 8080
let gearmand: Gearmand
let lab: LabInfo
let worker: ServeWorkerProcess
let client: GearmanClient
let deviceId = ''
let before: string[] = []
const answers: {field: string; value: string; response: Record<string, unknown>}[] = []

const HOSTILE = [
  `../../../../../../../../tmp/${PWN}-dots`,
  `/tmp/${PWN}-abs`,
  `$(touch /tmp/${PWN}-sh)`,
  `; touch /tmp/${PWN}-semi #`,
  `\`touch /tmp/${PWN}-tick\``,
  `x\u0000/tmp/${PWN}-nul`,
  `x\n  log /tmp/${PWN}-nl local0\n`,
  `lbaas-${world.suffix} | ip netns del lbaas-x && rm -rf /tmp/${PWN}-pipe`,
]

async function job(payload: unknown): Promise<Record<string, unknown>> {
  return JSON.parse((await client.submitJob(functionName, JSON.stringify(payload), {timeoutMs: 60_000})).toString('utf8')) as Record<string, unknown>
}

function set(target: Record<string, any>, path: string, value: unknown): Record<string, any> {
  const copy = structuredClone(target)
  const keys = path.split('.')
  let node = copy
  for (const key of keys.slice(0, -1)) node = node[key]
  node[keys.at(-1)!] = value
  return copy
}

function update() {
  return {
    hpcs_action: 'UPDATE',
    loadBalancers: [
      {
        name: 'lb',
        id: '42',
        protocol: 'HTTP',
        port: PORT,
        algorithm: 'ROUND_ROBIN',
        nodes: [{id: 1, address: lab.backend(1).address, port: 8000, weight: 1, backup: 'FALSE', condition: 'ENABLED'}],
        monitor: {type: 'HTTP', delay: 5, timeout: 2, attempts: 2, path: '/healthz'},
        options: {client_timeout: 30000, server_timeout: 30000, connect_timeout: 30000, connect_retries: 3},
      },
    ],
  }
}

const UPDATE_FIELDS = [
  'loadBalancers.0.name', 'loadBalancers.0.id', 'loadBalancers.0.protocol', 'loadBalancers.0.port', 'loadBalancers.0.algorithm',
  'loadBalancers.0.nodes.0.id', 'loadBalancers.0.nodes.0.address', 'loadBalancers.0.nodes.0.port', 'loadBalancers.0.nodes.0.weight',
  'loadBalancers.0.nodes.0.backup', 'loadBalancers.0.nodes.0.condition', 'loadBalancers.0.monitor.type', 'loadBalancers.0.monitor.delay',
  'loadBalancers.0.monitor.timeout', 'loadBalancers.0.monitor.attempts', 'loadBalancers.0.monitor.path',
  'loadBalancers.0.options.client_timeout', 'loadBalancers.0.options.connect_retries', 'hpcs_action',
]

function archive() {
  return {
    hpcs_action: 'ARCHIVE',
    hpcs_object_store_type: 'swift',
    hpcs_object_store_basepath: 'lbaaslogs',
    // A closed loopback port: whatever gets through is refused there, nothing leaves the host.
    hpcs_object_store_endpoint: 'http://127.0.0.1:1/v1/AUTH_test',
    hpcs_object_store_token: 'token',
    loadBalancers: [{id: '42', name: 'lb', protocol: 'HTTP'}],
  }
}
const ARCHIVE_FIELDS = ['hpcs_object_store_type', 'hpcs_object_store_basepath', 'hpcs_object_store_endpoint', 'hpcs_object_store_token', 'loadBalancers.0.id', 'loadBalancers.0.protocol']

const NATIVE = () => nativePoolIds(lab, '7e0f5a3c', 60)
const POOL = '7e0f5a3c-1b2d-4c5e-8f90-a1b2c3d4e5f6'
const deploy = () => deployMessage(world.cli.statePath, lab, NATIVE())
const DEPLOY_FIELDS = [
  'graph.pool.id', 'graph.pool.name', 'graph.pool.description', 'graph.pool.subnet_id', 'graph.subnet.id', 'graph.subnet.name', 'graph.subnet.bridge',
  'graph.subnet.cidr', 'graph.members.0.id', 'graph.members.0.address', 'graph.monitors.0.url_path', 'graph.monitors.0.http_method',
  'graph.vip.address', 'graph.vip.name', 'graph.vip.description', 'graph.vip.session_persistence', 'graph.associations.0.monitor_id',
]

/** Every entry of the worker's directory, except what changes by design: the state file, the log, and the device's and locks' own entries. */
function listing(): string[] {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const path = `${dir}/${name}`
      return lstatSync(path).isDirectory() ? [path, ...walk(path)] : [path]
    })
  const volatile = [`${world.dir}/state.db`, `${world.dir}/worker.log`, `${world.runDir}/${deviceId}/`, `${world.runDir}/locks/`]
  return walk(world.dir).filter((path) => !volatile.some((prefix) => path.startsWith(prefix))).sort()
}

beforeAll(async () => {
  gearmand = await Gearmand.start()
  lab = await world.lab(2)
  world.poolIds.add(POOL)
  worker = await ServeWorkerProcess.start({
    dir: world.dir,
    ports: [gearmand.port],
    functionName,
    args: ['--device-subnet', lab.subnet, '--device-address', `${lab.base}.50`],
    env: {LBAAS_DEBUG: '1'},
  })
  client = new GearmanClient({servers: [{host: '127.0.0.1', port: gearmand.port}]})
  expect((await job(update())).hpcs_response).toBe('PASS')
  const db = new Database(world.cli.statePath, {readonly: true})
  deviceId = (db.prepare('SELECT id FROM libra_device').get() as {id: string}).id
  db.close()
  before = listing()

  for (const value of HOSTILE) {
    for (const field of UPDATE_FIELDS) answers.push({field, value, response: await job(set(update(), field, value))})
    for (const field of ARCHIVE_FIELDS) answers.push({field: `ARCHIVE ${field}`, value, response: await job(set(archive(), field, value))})
    for (const field of DEPLOY_FIELDS) answers.push({field: `DEPLOY ${field}`, value, response: await job(set(deploy(), field, value))})
    for (const action of ['UNDEPLOY', 'STATS']) {
      answers.push({field: `${action} pool_id`, value, response: await job({lbaas_action: action, lbaas_version: 1, pool_id: value})})
    }
  }
})

afterAll(async () => {
  try {
    await retireWorker(worker, world.dir, job, [POOL])
    await client?.close()
  } finally {
    await world.cleanup()
    await gearmand?.stop()
  }
})

describe('hostile Libra and native messages', () => {
  it('every message got a JSON answer and the worker kept running', () => {
    expect(answers).toHaveLength(HOSTILE.length * (UPDATE_FIELDS.length + ARCHIVE_FIELDS.length + DEPLOY_FIELDS.length + 2))
    for (const {response} of answers) expect('hpcs_response' in response || 'lbaas_response' in response || 'badRequest' in response).toBe(true)
    expect(worker.running).toBe(true)
  })

  it('paths, NULs and newlines are refused wherever they could reach a file, a name or the configuration', () => {
    const accepted = answers.filter(({response}) => response.hpcs_response === 'PASS' || response.lbaas_response === 'PASS')
    const visibleAscii = (value: string) => /^\/[\x21-\x7e]*$/.test(value)
    const noControl = (value: string) => !/[\0-\x1f\x7f]/.test(value)
    // What may pass, and why it is harmless: Libra fields the worker only echoes, Libra's
    // `backup` (any string but "true" reads as false), free text that stays in the state
    // file, and URL paths (`/tmp/…` is a valid monitor path: a string HAProxy sends, never opens).
    const allowed: Record<string, (value: string) => boolean> = {
      'loadBalancers.0.name': () => true,
      'loadBalancers.0.id': () => true,
      'loadBalancers.0.nodes.0.condition': () => true,
      'loadBalancers.0.nodes.0.backup': () => true,
      // Libra puts a `/` in front of a path without one.
      'loadBalancers.0.monitor.path': (value) => visibleAscii(value.startsWith('/') ? value : `/${value}`),
      'DEPLOY graph.monitors.0.url_path': visibleAscii,
      'DEPLOY graph.pool.name': noControl,
      'DEPLOY graph.pool.description': noControl,
      'DEPLOY graph.vip.name': noControl,
      'DEPLOY graph.vip.description': noControl,
    }
    expect(accepted.filter(({field, value}) => !allowed[field]?.(value)).map(({field, value}) => `${field} = ${JSON.stringify(value)}`)).toEqual([])
    expect(accepted.length).toBeLessThan(answers.length / 4)
    for (const action of ['UNDEPLOY', 'STATS']) {
      for (const {response} of answers.filter(({field}) => field === `${action} pool_id`)) {
        expect(response).toMatchObject({lbaas_response: 'FAIL', error: {code: 'invalid_pool_id'}})
      }
    }
  })

  it('nothing named after a payload exists in /tmp, and the worker changed nothing in its directory outside its own run-dir entries', () => {
    expect(readdirSync('/tmp').filter((name) => name.includes(PWN))).toEqual([])
    const after = listing().filter((path) => !path.startsWith(`${world.runDir}/${POOL}`))
    expect(after).toEqual(before)
  })

  it('the configuration the device runs names no payload outside its monitor request line', () => {
    const config = readFileSync(`${world.runDir}/${deviceId}/haproxy.cfg`, 'utf8')
    expect(config.split('\n').filter((line) => line.includes(PWN) && !/^\s*(option httpchk|http-check send)\b/.test(line))).toEqual([])
  })

  it('every program the worker ran is one it is meant to run, with paths only under its directory', () => {
    const commands = tracedCommands(worker.log())
    expect(commands.some(({argv}) => argv[0] === 'haproxy')).toBe(true)
    expect(auditArgv(commands, {programs: ['ip', 'haproxy', 'arping'], pathRoots: [world.runDir]})).toEqual([])
    expect(commands.filter(({argv, input}) => argv.some((arg) => arg.includes(PWN)) || input.includes(PWN))).toEqual([])
  })

  it('a pool deployed with hostile free text serves, and its namespace is named after its id only', async () => {
    expect(namespaceExists(`lbaas-${POOL}`)).toBe(true)
    expect((await tally(`${lab.base}.60`, 80, 2)).ok).toBe(2)
    expect((await tally(`${lab.base}.50`, PORT, 2)).ok).toBe(2)
  })

  it("the state file's WAL and shared memory, open while the worker runs, are private too", () => {
    for (const suffix of ['', '-wal', '-shm']) expect(lstatSync(`${world.cli.statePath}${suffix}`).mode & 0o777).toBe(0o600)
  })
})
