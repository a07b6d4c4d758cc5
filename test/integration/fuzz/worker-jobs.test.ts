/**
 * Issue 6.3 through a real `lbaas serve-worker` and a real gearmand: fuzzed jobs (random
 * bytes, random text and JSON, Libra requests and native requests with valid and hostile
 * fields, and those with their JSON text cut or spliced), sent one after another with the
 * in-house Gearman client. Every job is answered with WORK_COMPLETE and a JSON object of one
 * of the three shapes (Libra's hpcs_response, Libra's badRequest, lbaas_response), never an
 * internal error; a refused job leaves the worker's state file and running configurations
 * as they were; and the worker process is still alive at the end. The device runs in its
 * own namespace on the lab subnet, and every address in a fuzzed job is confined to that
 * subnet, so HAProxy never checks or connects anywhere else.
 * Reproduce with LBAAS_FUZZ_SEED; LBAAS_FUZZ_JOB_RUNS changes the count (default 300);
 * LBAAS_FUZZ_DEBUG=1 prints every job, its duration and its answer.
 */
import {existsSync, readFileSync} from 'node:fs'

import Database from 'better-sqlite3'
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {GearmanClient} from '../../../src/gearman/client.js'
import {poolPaths} from '../../../src/host/names.js'
import {CaseCounter, fuzzOptions, hostileValue, stateFingerprint} from '../../helpers/hostile.js'
import {confineAddresses, libraRequest, nativeRequest} from '../../helpers/hostile-messages.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {subnetForMessage} from '../faults/native-pool.js'
import {Gearmand} from '../gearman/gearmand-process.js'
import {retireWorker, ServeWorkerProcess} from '../worker/serve-worker-process.js'

const RUNS = Number(process.env.LBAAS_FUZZ_JOB_RUNS ?? 300)
const world = trafficLab('fzw')
const functionName = `lbt-fzw-${world.suffix}`
const counter = new CaseCounter()
const shapes = new Map<string, number>()
let gearmand: Gearmand
let lab: LabInfo
let worker: ServeWorkerProcess
let client: GearmanClient
let graph: Record<string, unknown>
const POOL = '6f7e0000-1b2d-4c5e-8f90-a1b2c3d4e5f6'
const MEMBER = '6f7e0000-1b2d-4c5e-8f90-a1b2c3d4e5f7'
const VIP = '6f7e0000-1b2d-4c5e-8f90-a1b2c3d4e5f8'
const MONITOR = '6f7e0000-1b2d-4c5e-8f90-a1b2c3d4e5f9'
const ENDPOINT = 'http://127.0.0.1:9/v1/AUTH_fuzz'

beforeAll(async () => {
  gearmand = await Gearmand.start()
  lab = await world.lab(1)
  worker = await ServeWorkerProcess.start({
    dir: world.dir,
    ports: [gearmand.port],
    functionName,
    args: ['--device-subnet', lab.subnet, '--device-address', `${lab.base}.50`],
  })
  world.poolIds.add(POOL)
  client = new GearmanClient({servers: [{host: '127.0.0.1', port: gearmand.port}]})
  const subnet = subnetForMessage(`${world.dir}/state.db`, lab.subnetId)
  const status = {status: 'PENDING_CREATE', status_description: null}
  graph = {
    pool: {
      id: POOL, name: 'fuzzed', description: '', subnet_id: lab.subnetId, protocol: 'HTTP', lb_method: 'ROUND_ROBIN', admin_state_up: true,
      ...status, operating_status: 'OFFLINE', vip_id: VIP, members: [MEMBER], health_monitors: [MONITOR], agent: 'local',
    },
    subnet,
    members: [{id: MEMBER, pool_id: POOL, address: lab.backend(1).address, protocol_port: 8000, weight: 1, admin_state_up: true, ...status, operating_status: 'OFFLINE'}],
    monitors: [{id: MONITOR, type: 'HTTP', delay: 5, timeout: 2, max_retries: 2, http_method: 'GET', url_path: '/healthz', expected_codes: '200', admin_state_up: true}],
    associations: [{pool_id: POOL, monitor_id: MONITOR, ...status, position: 0}],
    vip: {
      id: VIP, name: 'v', description: '', pool_id: POOL, subnet_id: lab.subnetId, address: `${lab.base}.60`, protocol: 'HTTP', protocol_port: 80,
      connection_limit: -1, session_persistence: {type: 'APP_COOKIE', cookie_name: 'SID'}, admin_state_up: true, ...status,
    },
    vipSubnet: subnet,
  }
}, 300_000)

afterAll(async () => {
  console.info(`${counter.summary('worker jobs')}; answers ${JSON.stringify(Object.fromEntries(shapes))}`)
  try {
    await retireWorker(worker, world.dir, (message) => job(JSON.stringify(message)), [POOL])
    await client?.close()
  } finally {
    await world.cleanup()
    await gearmand?.stop()
  }
}, 300_000)

async function job(payload: string | Buffer): Promise<unknown> {
  const answer = await client.submitJob(functionName, payload, {timeoutMs: 60_000})
  return JSON.parse(answer.toString('utf8'))
}

/** The worker's state file and what its HAProxy processes run: a refused job leaves them alone. */
function workerFingerprint(): string {
  const parts = [stateFingerprint(`${world.dir}/state.db`)]
  const db = new Database(`${world.dir}/state.db`, {readonly: true})
  let device: string | undefined
  try {
    device = (db.prepare('SELECT id FROM libra_device').get() as {id: string} | undefined)?.id
  } finally {
    db.close()
  }
  for (const id of [POOL, device]) {
    if (!id) continue
    const config = poolPaths(`${world.dir}/run`, id).config
    parts.push(existsSync(config) ? readFileSync(config, 'utf8') : '(none)')
  }
  return parts.join('\n--\n')
}

/** Keeps a fuzzed job inside the test's own network: addresses in the lab subnet, the Swift endpoint on a closed local port. */
function confine(message: Record<string, unknown>): Record<string, unknown> {
  const confined = confineAddresses(message, lab.cidr, `${lab.base}.201`)
  if (typeof confined.hpcs_object_store_endpoint === 'string') confined.hpcs_object_store_endpoint = ENDPOINT
  return confined
}

function payloads(): fc.Arbitrary<{kind: string; payload: string | Buffer}> {
  const addresses = fc.integer({min: 11, max: 12}).map((host) => `${lab.base}.${host}`)
  const libra = libraRequest(addresses).map((message) => JSON.stringify(confine(message)))
  // The subnets stay as they are: a fuzzed CIDR could make the worker plug a bridge onto another test's network.
  const native = nativeRequest({graph, poolId: POOL, memberIds: [MEMBER], mutable: (path) => path[0] !== 'subnet' && path[0] !== 'vipSubnet'}).map((message) =>
    JSON.stringify(confine(message)),
  )
  const spliced = fc
    .tuple(fc.oneof(libra, native), fc.nat(), fc.constantFrom('', '"', '}', '\\', '\u0000', '\ud800', ',,', '{"a":'))
    .map(([text, position, part]) => {
      const at = position % (text.length + 1)
      return `${text.slice(0, at)}${part}${text.slice(at + (part === '' ? text.length : 0))}`
    })
  return fc.oneof(
    {weight: 1, arbitrary: fc.uint8Array({maxLength: 4_096}).map((bytes) => ({kind: 'bytes', payload: Buffer.from(bytes)}))},
    {weight: 1, arbitrary: fc.string({unit: 'binary', maxLength: 300}).map((text) => ({kind: 'text', payload: text}))},
    {weight: 1, arbitrary: fc.jsonValue({maxDepth: 4}).map((value) => ({kind: 'json', payload: JSON.stringify(value)}))},
    {
      weight: 1,
      arbitrary: fc
        .record({hpcs_action: hostileValue, lbaas_action: hostileValue, lbaas_version: fc.constantFrom<unknown>(1, '1', 2, null)}, {requiredKeys: []})
        .map((value) => ({kind: 'json', payload: JSON.stringify(confine(value))})),
    },
    {weight: 5, arbitrary: libra.map((payload) => ({kind: 'libra', payload}))},
    {weight: 5, arbitrary: native.map((payload) => ({kind: 'native', payload}))},
    {weight: 1, arbitrary: spliced.map((payload) => ({kind: 'spliced', payload}))},
  )
}

describe(`${RUNS} fuzzed jobs through a real serve-worker and gearmand`, () => {
  it('every job gets WORK_COMPLETE with a JSON object; refused jobs change nothing', async () => {
    await fc.assert(
      fc.asyncProperty(payloads(), async ({kind, payload}) => {
        counter.tick()
        const before = workerFingerprint()
        const started = performance.now()
        const answer = await job(payload)
        if (process.env.LBAAS_FUZZ_DEBUG) console.info(kind, Math.round(performance.now() - started), JSON.stringify(answer).slice(0, 200))
        const label = `${kind} job ${JSON.stringify(String(payload).slice(0, 300))}`
        expect(typeof answer === 'object' && answer !== null && !Array.isArray(answer), `${label}: ${JSON.stringify(answer)}`).toBe(true)
        const record = answer as Record<string, any>
        let shape: string
        if ('badRequest' in record) {
          expect(typeof record.badRequest?.validationErrors?.message, label).toBe('string')
          shape = 'badRequest'
        } else if ('lbaas_response' in record) {
          expect(['PASS', 'FAIL'], label).toContain(record.lbaas_response)
          if (record.lbaas_response === 'FAIL') {
            expect(record.error, label).toMatchObject({code: expect.any(String), message: expect.any(String)})
            expect(record.error.code, `${label}: ${record.error.message}`).not.toBe('internal_error')
            expect([1, 2, 3, 4, 5], label).toContain(record.error.exit)
          }
          shape = `lbaas ${record.lbaas_response}`
        } else {
          expect(['PASS', 'FAIL'], `${label}: ${JSON.stringify(record).slice(0, 300)}`).toContain(record.hpcs_response)
          if (record.hpcs_response === 'FAIL') {
            expect(typeof record.hpcs_error, label).toBe('string')
            expect(record.hpcs_error, label).not.toMatch(/^internal error/)
          }
          shape = `hpcs ${record.hpcs_response}`
        }
        shapes.set(`${kind} ${shape}`, (shapes.get(`${kind} ${shape}`) ?? 0) + 1)
        if (shape === 'hpcs PASS' && String(record.hpcs_action).toUpperCase() === 'UPDATE') shapes.set('UPDATE PASS', (shapes.get('UPDATE PASS') ?? 0) + 1)
        if (shape === 'lbaas PASS' && record.lbaas_action === 'DEPLOY') shapes.set('DEPLOY PASS', (shapes.get('DEPLOY PASS') ?? 0) + 1)
        const refused = shape === 'badRequest' || shape.endsWith('FAIL')
        if (refused) expect(workerFingerprint(), `${label} was refused (${JSON.stringify(record).slice(0, 300)}) but changed the worker's state or configuration`).toBe(before)
        expect(worker.running, `${label} stopped the worker:\n${worker.log().slice(-2_000)}`).toBe(true)
      }),
      fuzzOptions(RUNS),
    )
    // Both ways happened, for both protocols.
    const count = (prefix: string) => [...shapes].filter(([key]) => key.startsWith(prefix)).reduce((sum, [, n]) => sum + n, 0)
    expect(count('UPDATE PASS')).toBeGreaterThan(0)
    expect(count('DEPLOY PASS')).toBeGreaterThan(0)
    expect(count('libra hpcs FAIL') + count('libra badRequest')).toBeGreaterThan(0)
    expect(count('native lbaas FAIL')).toBeGreaterThan(0)
  }, 1_800_000)

  it('the worker is alive and still serves a plain job afterwards', async () => {
    expect(worker.running).toBe(true)
    expect(await job(JSON.stringify({hpcs_action: 'DISCOVER'}))).toMatchObject({hpcs_response: 'PASS'})
  })
})
