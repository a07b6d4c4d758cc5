/**
 * Issue 6.3, in process: every field of Libra's messages (UPDATE and the other actions)
 * and of this project's native messages (DEPLOY, RUNTIME, UNDEPLOY, STATS, DISCOVER),
 * valid or hostile, through the pure entry points the worker runs for a job (handleLibra,
 * handleNative). For every generated message:
 * - the answer is a JSON object (Libra: PASS, or FAIL with hpcs_error, or Libra's badRequest;
 *   native: PASS, or FAIL with {code, message, exit 1–5} and never internal_error), never an
 *   exception;
 * - a rejected message changes nothing (the device is not updated; the agent's state file
 *   and executor are untouched);
 * - an accepted one renders a configuration that holds the accepted node ids, monitor path,
 *   url_path, http_method and cookie_name only as whole words where they belong, and no
 *   name or description at all.
 */
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {PoolGraph} from '../../../src/domain/types.js'
import {renderConfig} from '../../../src/haproxy/render.js'
import {liveVip} from '../../../src/domain/status.js'
import {createMember} from '../../../src/service/members.js'
import {associateMonitor, createMonitor} from '../../../src/service/monitors.js'
import {createPool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {createVip} from '../../../src/service/vips.js'
import {loadPoolGraph} from '../../../src/store/graph.js'
import type {MetricsReport} from '../../../src/worker/libra/counters.js'
import type {DeviceStatus, LibraDevice} from '../../../src/worker/libra/device.js'
import {handleLibra, type LibraControllerOptions, type LibraDeviceBackend} from '../../../src/worker/libra/controller.js'
import {buildDeviceView} from '../../../src/worker/libra/device-view.js'
import type {DeviceSpec} from '../../../src/worker/libra/update.js'
import {handleNative, type NativeEnvironment} from '../../../src/worker/native.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'
import {sampleRenderOptions} from '../../helpers/haproxy-factories.js'
import {CaseCounter, configWords, fuzzOptions, renderingProblems, stateFingerprint, validMemberAddress} from '../../helpers/hostile.js'
import {libraRequest, nativeRequest} from '../../helpers/hostile-messages.js'

const counter = new CaseCounter()
// How many generated messages each property sees (times LBAAS_FUZZ_SCALE); the "both ways
// happened" floors below are fractions of these.
const LIBRA_OPTIONS = fuzzOptions(750)
const NATIVE_OPTIONS = fuzzOptions(750)
const TIMEOUT = 600_000
const options = sampleRenderOptions()

const answers = new Map<string, number>()
const KNOWN = new Set(['UPDATE', 'SUSPEND', 'ENABLE', 'DELETE', 'DISCOVER', 'ARCHIVE', 'STATS', 'METRICS', 'DIAGNOSTICS', 'DEPLOY', 'UNDEPLOY', 'RUNTIME'])
const note = (key: string) => answers.set(key, (answers.get(key) ?? 0) + 1)
afterAll(() => console.info(`${counter.summary('worker messages')}; answers ${JSON.stringify(Object.fromEntries([...answers].sort()))}`))

/** Lets vitest's own messages through now and then: the cases only await promises. */
async function breathe(): Promise<void> {
  if (counter.tick() % 64 === 0) await new Promise((resolve) => setImmediate(resolve))
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The answer as it goes on the wire: JSON text that parses back to an object. */
function wire(response: unknown): Record<string, any> {
  const text = JSON.stringify(response)
  if (typeof text !== 'string') throw new Error(`the answer is not JSON: ${String(response)}`)
  const parsed = JSON.parse(text) as unknown
  if (!isPlainObject(parsed)) throw new Error(`the answer is not a JSON object: ${text.slice(0, 200)}`)
  return parsed
}

// ---- Libra ---------------------------------------------------------------------------

const PLACEMENT = {bindAddress: '0.0.0.0', deviceId: '0d000000-0000-4000-8000-000000000001'}
const renderDevice = (spec: DeviceSpec) => renderConfig(buildDeviceView(spec, PLACEMENT, options))

/**
 * The device configuration holds node ids and monitor paths as whole words only: it reads
 * as the configuration of the same spec with plain ids and paths, word for word, but for
 * those values.
 */
function deviceRenderingProblems(spec: DeviceSpec): string[] {
  const allowed = new Map<string, string>()
  const plain: DeviceSpec = {
    loadBalancers: spec.loadBalancers.map((lb, lbIndex) => {
      const path = `/placeholder-path-${lbIndex}`
      if (lb.monitor) allowed.set(path, lb.monitor.path)
      return {
        ...lb,
        monitor: lb.monitor && {...lb.monitor, path},
        nodes: lb.nodes.map((node, nodeIndex) => {
          const id = `n${lbIndex}x${nodeIndex}`
          allowed.set(`id-${id}`, `id-${node.id}`)
          return {...node, id}
        }),
      }
    }),
  }
  const actual = configWords(renderDevice(spec))
  const expected = configWords(renderDevice(plain))
  if (actual.length !== expected.length) return [`${actual.length} lines instead of ${expected.length}`]
  const problems: string[] = []
  expected.forEach((words, line) => {
    if (actual[line].length !== words.length) problems.push(`line ${line + 1}: ${JSON.stringify(actual[line])} vs ${JSON.stringify(words)}`)
    else words.forEach((word, index) => {
      const value = actual[line][index]
      if (value !== word && allowed.get(word) !== value) problems.push(`line ${line + 1}: ${JSON.stringify(value)} where ${JSON.stringify(word)} belongs`)
    })
  })
  return problems
}

class RenderingDevice implements LibraDeviceBackend {
  updates = 0
  problems: string[] = []
  async update(spec: DeviceSpec): Promise<void> {
    this.updates++
    try {
      this.problems.push(...deviceRenderingProblems(spec))
    } catch (error) {
      this.problems.push(`rendering an accepted UPDATE threw: ${(error as Error).message}`)
    }
  }
  async suspend(): Promise<void> {}
  async enable(): Promise<void> {}
  async remove(): Promise<void> {}
  async status(): Promise<DeviceStatus> {
    return {kind: 'running', servers: [{nodeServer: 'id-1', status: 'UP'}]}
  }
  async metrics(): Promise<MetricsReport> {
    return {utcStart: '2024-01-01 00:00:00', utcEnd: '2024-01-01 00:01:00', loadBalancers: [{protocol: 'http', bytes_out: 1}]}
  }
  async logLines(): Promise<string[]> {
    return ['a log line']
  }
  markArchived(): void {}
}

const libraDevice = new RenderingDevice()
const uploads: unknown[] = []
const libraOptions: LibraControllerOptions = {
  device: libraDevice,
  version: '1.0.0',
  release: 'lbaas 1.0.0',
  diagnostics: async () => ({gearman: [{host: '127.0.0.1', port: 4730, status: 'PASS'}], network: 'PASS', network_targets: []}),
  upload: async (target) => {
    uploads.push(target)
    return {url: 'http://swift/x', etag: 'e', bytes: 1}
  },
}

const libra = libraRequest(validMemberAddress)

describe('Libra messages (handleLibra), every field valid or hostile', () => {
  it('always answers a JSON object; an accepted UPDATE renders its values as whole words only', async () => {
    const results = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(libra, async (generated) => {
        await breathe()
        // As the worker gets it: JSON text parsed (no undefined, NaN or holes on the wire).
        const request = JSON.parse(JSON.stringify(generated)) as Record<string, unknown>
        const updatesBefore = libraDevice.updates
        const snapshot = JSON.stringify(request)
        const outcome = await handleLibra(request, libraOptions)
        const answer = wire(outcome.response)
        results.set(outcome.result, (results.get(outcome.result) ?? 0) + 1)
        note(`libra ${KNOWN.has(outcome.action) ? outcome.action : '(other)'} ${outcome.result}`)
        expect(JSON.stringify(request)).toBe(snapshot) // the caller's request is not changed
        if ('badRequest' in answer) {
          expect(typeof answer.badRequest?.validationErrors?.message).toBe('string')
          expect(libraDevice.updates).toBe(updatesBefore)
        } else {
          expect(['PASS', 'FAIL']).toContain(answer.hpcs_response)
          if (answer.hpcs_response === 'FAIL') {
            expect(typeof answer.hpcs_error).toBe('string')
            expect(answer.hpcs_error.length).toBeGreaterThan(0)
            expect(libraDevice.updates).toBe(updatesBefore)
          }
        }
        if (libraDevice.problems.length > 0) throw new Error(`accepted UPDATE ${snapshot.slice(0, 500)}:\n  ${libraDevice.problems.join('\n  ')}`)
      }),
      LIBRA_OPTIONS,
    )
    // Both ways happened, UPDATE included.
    expect(libraDevice.updates).toBeGreaterThan(LIBRA_OPTIONS.numRuns * 0.05)
    expect(results.get('FAIL') ?? 0).toBeGreaterThan(LIBRA_OPTIONS.numRuns * 0.02)
    expect(results.get('BAD_REQUEST') ?? 0).toBeGreaterThan(LIBRA_OPTIONS.numRuns * 0.004)
  }, TIMEOUT)
})

// ---- native --------------------------------------------------------------------------

const controller = testContext(new RecordingExecutor())
const agentExecutor = new RecordingExecutor()
const agent = testContext(agentExecutor)
let baseGraph: Record<string, unknown>
let poolId = ''
let memberIds: string[] = []

const fakeDevice = {
  describe: () => ({id: PLACEMENT.deviceId, mode: 'host', address: null, subnet_id: null, state: 'NONE', running: false}),
} as unknown as LibraDevice
const env: NativeEnvironment = {
  ctx: agent,
  device: fakeDevice,
  functionName: 'fuzz',
  concurrency: 4,
  runningJobs: () => 0,
  busy: () => false,
}

beforeAll(async () => {
  agent.store.db.pragma('wal_autocheckpoint = 8')
  agent.store.db.pragma('journal_size_limit = 65536')
  await createSubnet(controller, {name: 'lab', cidr: '198.18.0.0/24'})
  poolId = (await createPool(controller, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})).id
  memberIds = [
    (await createMember(controller, 'web', {address: '198.18.0.11', protocol_port: 8000})).id,
    (await createMember(controller, 'web', {address: '198.18.0.12', protocol_port: 8000, weight: 5})).id,
  ]
  const monitor = await createMonitor(controller, {type: 'HTTP', delay: 5, timeout: 2, max_retries: 3, url_path: '/healthz', expected_codes: '200-204'})
  await associateMonitor(controller, monitor.id, 'web')
  await createVip(controller, 'web', {name: 'web-vip', protocol: 'HTTP', protocol_port: 80, subnet: 'lab', session_persistence: 'APP_COOKIE:SID'})
  baseGraph = JSON.parse(JSON.stringify(loadPoolGraph(controller.store.db, poolId)))
})

afterAll(() => {
  controller.cleanup()
  agent.cleanup()
})

describe('native messages (handleNative), every field valid or hostile', () => {
  it('always answers PASS or a typed FAIL; a rejected message changes nothing; an accepted DEPLOY renders safely', async () => {
    const request = nativeRequest({graph: baseGraph, poolId, memberIds})
    const results = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(request, async (generated) => {
        await breathe()
        const message = JSON.parse(JSON.stringify(generated)) as Record<string, unknown>
        const before = stateFingerprint(agent.statePath)
        const calls = agentExecutor.calls.length
        const outcome = await handleNative(message, env)
        const answer = wire(outcome.response)
        const key = `${outcome.action} ${answer.lbaas_response}`
        results.set(key, (results.get(key) ?? 0) + 1)
        note(`native ${KNOWN.has(outcome.action) ? outcome.action : '(other)'} ${answer.lbaas_response}`)
        expect(['PASS', 'FAIL']).toContain(answer.lbaas_response)
        if (answer.lbaas_response === 'FAIL') {
          expect(typeof answer.error?.code).toBe('string')
          expect(answer.error.code).not.toBe('internal_error')
          expect(typeof answer.error.message).toBe('string')
          expect([1, 2, 3, 4, 5]).toContain(answer.error.exit)
          expect(stateFingerprint(agent.statePath), `FAIL ${answer.error.code} changed the agent's state file`).toBe(before)
          expect(agentExecutor.calls.length, `FAIL ${answer.error.code} called the executor`).toBe(calls)
          return
        }
        if (outcome.action === 'DEPLOY' || outcome.action === 'RUNTIME') {
          const stored = loadPoolGraph(agent.store.db, (message.graph as {pool: {id: string}}).pool.id.toLowerCase())
          if (stored) {
            const problems = renderingProblems({...stored, vip: liveVip(stored)} as PoolGraph, options)
            if (problems.length > 0) throw new Error(`accepted ${outcome.action}:\n  ${problems.join('\n  ')}`)
          }
        }
      }),
      NATIVE_OPTIONS,
    )
    const count = (prefix: string) => [...results].filter(([key]) => key.startsWith(prefix)).reduce((sum, [, n]) => sum + n, 0)
    expect(count('DEPLOY PASS')).toBeGreaterThan(NATIVE_OPTIONS.numRuns * 0.02)
    expect(count('DEPLOY FAIL')).toBeGreaterThan(NATIVE_OPTIONS.numRuns * 0.02)
  }, TIMEOUT)
})
