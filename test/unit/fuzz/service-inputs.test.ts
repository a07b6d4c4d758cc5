/**
 * Issue 6.3, in process: every create and update input of every resource (what the CLI
 * flags and the native messages hand to the services), each field drawn from a mix of valid
 * and hostile values. For every generated input, either
 * - the service throws an LbaasError with an exit code of SPEC §2 other than 1 (2, 3, 4 or
 *   5), and then the state file and its WAL are byte for byte unchanged and the executor
 *   was not called; or
 * - it succeeds, and then the pool's rendered configuration equals the one rendered with
 *   plain names and descriptions, and every accepted url_path, http_method and cookie_name
 *   is exactly one word where it belongs (HAProxy's tokenizer reads back the accepted value).
 * Anything else (another error, an exit 1, a render that throws) fails the property.
 */
import fc from 'fast-check'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {LbaasError} from '../../../src/domain/errors.js'
import type {PoolGraph} from '../../../src/domain/types.js'
import {liveVip} from '../../../src/domain/status.js'
import {createMember, deleteMember, updateMember} from '../../../src/service/members.js'
import {associateMonitor, createMonitor, deleteMonitor, disassociateMonitor, updateMonitor} from '../../../src/service/monitors.js'
import {createPool, deletePool, updatePool} from '../../../src/service/pools.js'
import {createSubnet, deleteSubnet} from '../../../src/service/subnets.js'
import {createVip, deleteVip, updateVip} from '../../../src/service/vips.js'
import {loadPoolGraph} from '../../../src/store/graph.js'
import {getMember} from '../../../src/store/members.js'
import {getVip} from '../../../src/store/vips.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'
import {sampleRenderOptions} from '../../helpers/haproxy-factories.js'
import {
  CaseCounter,
  fuzzOptions,
  hostileString,
  input,
  nearValid,
  optional,
  renderingProblems,
  stateFingerprint,
  validBool,
  validConnectionLimit,
  validDelay,
  validDescription,
  validTimeout,
  validCookieName,
  validExpectedCodes,
  validHttpMethod,
  validLbMethod,
  validMemberAddress,
  validMonitorType,
  validName,
  validPersistence,
  validPort,
  validProtocol,
  validRetries,
  validUrlPath,
  validWeight,
} from '../../helpers/hostile.js'

const executor = new RecordingExecutor()
const ctx = testContext(executor)
const counter = new CaseCounter()
const tally = new Map<string, {accepted: number; rejected: number}>()
const ids = {subnet: '', web: '', spare: '', tcp: '', member: '', monitor: '', vip: ''}

beforeAll(async () => {
  // Keep the WAL small, so hashing the state file and its WAL for every case stays cheap.
  ctx.store.db.pragma('wal_autocheckpoint = 8')
  ctx.store.db.pragma('journal_size_limit = 65536')
  ids.subnet = (await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})).id
  ids.web = (await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})).id
  ids.spare = (await createPool(ctx, {name: 'spare', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})).id
  ids.tcp = (await createPool(ctx, {name: 'tcp', subnet: 'lab', protocol: 'TCP', lb_method: 'ROUND_ROBIN'})).id
  ids.member = (await createMember(ctx, ids.web, {address: '198.18.0.11', protocol_port: 8000})).id
  await createMember(ctx, ids.web, {address: '198.18.0.12', protocol_port: 8000})
  ids.monitor = (await createMonitor(ctx, {type: 'HTTP', delay: 5, timeout: 2, max_retries: 3, url_path: '/healthz'})).id
  await associateMonitor(ctx, ids.monitor, ids.web)
  ids.vip = (await createVip(ctx, ids.web, {name: 'web-vip', protocol: 'HTTP', protocol_port: 80, subnet: ids.subnet, session_persistence: 'APP_COOKIE:SID'})).id
})

afterAll(() => {
  ctx.cleanup()
  const rows = [...tally].map(([what, counts]) => `${what} ${counts.accepted}/${counts.rejected}`).join(', ')
  console.info(`${counter.summary('service inputs')} (accepted/rejected: ${rows})`)
})

const options = sampleRenderOptions()

function graphOf(poolId: string): PoolGraph {
  const graph = loadPoolGraph(ctx.store.db, poolId)
  if (!graph) throw new Error(`pool ${poolId} is gone`)
  return {...graph, vip: liveVip(graph)}
}

function checkRendering(graph: PoolGraph): void {
  const problems = renderingProblems(graph, options)
  if (problems.length > 0) throw new Error(`rendering of pool ${graph.pool.id}:\n  ${problems.join('\n  ')}`)
}

/**
 * Runs one generated input. A rejection must be a typed error with exit 2–5 and leave the
 * state file and the executor alone; an acceptance is checked by `accepted`, then undone by
 * `undo` so the next case starts from the same world.
 */
async function attempt<T>(what: string, work: () => Promise<T>, accepted: (result: T) => void | Promise<void>, undo?: (result: T) => Promise<unknown>): Promise<void> {
  // Let vitest's own messages through now and then: the cases themselves only await promises.
  if (counter.tick() % 64 === 0) await new Promise((resolve) => setImmediate(resolve))
  const counts = tally.get(what) ?? {accepted: 0, rejected: 0}
  tally.set(what, counts)
  const before = stateFingerprint(ctx.statePath)
  const calls = executor.calls.length
  let result: T
  try {
    result = await work()
  } catch (error) {
    if (!(error instanceof LbaasError)) throw new Error(`${what}: not a typed error: ${(error as Error)?.stack ?? String(error)}`)
    if (![2, 3, 4, 5].includes(error.exit)) throw new Error(`${what}: exit ${error.exit} (${error.code}) for a rejected input: ${error.message}`)
    if (stateFingerprint(ctx.statePath) !== before) throw new Error(`${what}: rejected (${error.code}) but the state file changed`)
    if (executor.calls.length !== calls) throw new Error(`${what}: rejected (${error.code}) but the executor was called: ${executor.methods().slice(calls)}`)
    counts.rejected++
    return
  }
  counts.accepted++
  await accepted(result)
  if (undo) await undo(result)
}

/** A reference to an object (name or id): usually one that exists, sometimes hostile text. */
const ref = (...valid: (() => string)[]) =>
  fc.oneof({weight: 4, arbitrary: fc.constantFrom(...valid).map((get) => get())}, {weight: 1, arbitrary: hostileString})

const TIMEOUT = 600_000

describe('every create and update input, valid or hostile (fast-check)', () => {
  it('subnet create', async () => {
    const cidr = fc.oneof(
      fc.tuple(fc.integer({min: 0, max: 255}), fc.integer({min: 0, max: 255})).map(([a, b]) => `10.${a}.${b}.0/24`),
      fc.integer({min: 0, max: 0xffff}).map((n) => `2001:db8:${n.toString(16)}::/64`),
      fc.constantFrom('198.18.0.0/25', '10.0.0.0/31', '10.0.0.1/24', '0.0.0.0/0'),
    )
    const model = {
      name: fc.stringMatching(/^[A-Za-z0-9._-]{1,64}$/),
      cidr,
      gateway_ip: fc.constantFrom('10.0.0.1', '10.1.2.3', '2001:db8::1'),
      bridge: fc.stringMatching(/^[A-Za-z0-9_.-]{1,15}$/),
    }
    await fc.assert(
      fc.asyncProperty(input(model, {optional: ['gateway_ip', 'bridge']}), async (values) =>
        attempt(
          'subnet create',
          () => createSubnet(ctx, values as never),
          (subnet) => {
            expect(subnet.name).toMatch(/^[A-Za-z0-9._-]{1,64}$/)
            expect(subnet.bridge).toMatch(/^[A-Za-z0-9_.-]{1,15}$/)
          },
          (subnet) => deleteSubnet(ctx, subnet.id),
        ),
      ),
      fuzzOptions(200),
    )
  }, TIMEOUT)

  it('pool create', async () => {
    const model = {
      name: validName,
      description: validDescription,
      protocol: validProtocol,
      lb_method: validLbMethod,
      admin_state_up: validBool,
      agent: fc.constant('local'),
    }
    await fc.assert(
      fc.asyncProperty(ref(() => 'lab', () => ids.subnet), input(model, {optional: ['description', 'admin_state_up', 'agent']}), async (subnet, values) =>
        attempt(
          'pool create',
          () => createPool(ctx, {...values, subnet} as never),
          (pool) => checkRendering(graphOf(pool.id)),
          (pool) => deletePool(ctx, pool.id),
        ),
      ),
      fuzzOptions(300),
    )
  }, TIMEOUT)

  it('pool update (deployed pool)', async () => {
    const model = {name: validName, description: validDescription, lb_method: validLbMethod, admin_state_up: validBool}
    await fc.assert(
      fc.asyncProperty(ref(() => ids.web), input(model, {optional: Object.keys(model)}), async (pool, values) =>
        attempt(
          'pool update',
          () => updatePool(ctx, pool, values),
          (updated) => checkRendering(graphOf(updated.id)),
        ),
      ),
      fuzzOptions(300),
    )
  }, TIMEOUT)

  it('member create (deployed pool)', async () => {
    const model = {address: validMemberAddress, protocol_port: validPort, weight: validWeight, admin_state_up: validBool}
    await fc.assert(
      fc.asyncProperty(ref(() => ids.web, () => ids.spare), input(model, {optional: ['weight', 'admin_state_up']}), async (pool, values) =>
        attempt(
          'member create',
          () => createMember(ctx, pool, values as never),
          (member) => checkRendering(graphOf(member.pool_id)),
          (member) => deleteMember(ctx, member.id),
        ),
      ),
      fuzzOptions(400),
    )
  }, TIMEOUT)

  it('member update, including moves to another pool', async () => {
    const model = {weight: validWeight, admin_state_up: validBool}
    await fc.assert(
      fc.asyncProperty(
        ref(() => ids.member),
        input(model, {optional: Object.keys(model)}),
        optional(ref(() => ids.spare, () => ids.web), 5),
        async (member, values, pool) =>
          attempt(
            'member update',
            () => updateMember(ctx, member, {...values, pool: pool as string | undefined}),
            (updated) => {
              checkRendering(graphOf(ids.web))
              checkRendering(graphOf(ids.spare))
              expect(getMember(ctx.store.db, updated.id)?.pool_id).toBe(updated.pool_id)
            },
            async (updated) => (updated.pool_id === ids.web ? undefined : updateMember(ctx, updated.id, {pool: ids.web})),
          ),
      ),
      fuzzOptions(350),
    )
  }, TIMEOUT)

  const monitorModel = {
    type: validMonitorType,
    delay: validDelay,
    timeout: validTimeout,
    max_retries: validRetries,
    http_method: validHttpMethod,
    url_path: validUrlPath,
    expected_codes: validExpectedCodes,
    admin_state_up: validBool,
  }

  it('monitor create', async () => {
    await fc.assert(
      fc.asyncProperty(input(monitorModel, {optional: ['http_method', 'url_path', 'expected_codes', 'admin_state_up']}), async (values) =>
        attempt(
          'monitor create',
          () => createMonitor(ctx, values as never),
          (monitor) => {
            // As the web pool would render it with this monitor driving its checks.
            const graph = graphOf(ids.web)
            checkRendering({
              ...graph,
              monitors: [{...monitor, admin_state_up: true}],
              associations: [{pool_id: ids.web, monitor_id: monitor.id, status: 'ACTIVE', status_description: null, position: 0}],
            })
          },
          (monitor) => deleteMonitor(ctx, monitor.id),
        ),
      ),
      fuzzOptions(450),
    )
  }, TIMEOUT)

  it('monitor update (associated with the deployed pool)', async () => {
    const {type: _type, ...model} = monitorModel
    await fc.assert(
      fc.asyncProperty(ref(() => ids.monitor), input(model, {optional: Object.keys(model)}), async (monitor, values) =>
        attempt(
          'monitor update',
          () => updateMonitor(ctx, monitor, values),
          () => checkRendering(graphOf(ids.web)),
        ),
      ),
      fuzzOptions(400),
    )
  }, TIMEOUT)

  it('monitor associate and disassociate (references only)', async () => {
    await fc.assert(
      fc.asyncProperty(ref(() => ids.monitor), ref(() => ids.spare, () => 'spare', () => ids.tcp), async (monitor, pool) =>
        attempt(
          'monitor associate',
          () => associateMonitor(ctx, monitor, pool),
          () => checkRendering(graphOf(ids.spare)),
          () => disassociateMonitor(ctx, monitor, pool),
        ),
      ),
      fuzzOptions(100),
    )
  }, TIMEOUT)

  it('vip create (pool without a VIP)', async () => {
    const model = {
      name: validName,
      description: validDescription,
      protocol: validProtocol,
      protocol_port: validPort,
      address: fc.integer({min: 2, max: 254}).map((host) => `198.18.0.${host}`),
      connection_limit: validConnectionLimit,
      session_persistence: validPersistence,
      admin_state_up: validBool,
    }
    await fc.assert(
      fc.asyncProperty(
        ref(() => ids.spare, () => ids.tcp),
        ref(() => ids.subnet, () => 'lab'),
        input(model, {optional: ['description', 'address', 'connection_limit', 'session_persistence', 'admin_state_up']}),
        async (pool, subnet, values) =>
          attempt(
            'vip create',
            () => createVip(ctx, pool, {...values, subnet} as never),
            (vip) => checkRendering(graphOf(vip.pool_id)),
            (vip) => deleteVip(ctx, vip.id),
          ),
      ),
      fuzzOptions(450),
    )
  }, TIMEOUT)

  it('vip update, including moves to another pool', async () => {
    const model = {
      name: validName,
      description: validDescription,
      connection_limit: validConnectionLimit,
      session_persistence: validPersistence,
      admin_state_up: validBool,
    }
    await fc.assert(
      fc.asyncProperty(
        ref(() => ids.vip),
        input(model, {optional: Object.keys(model)}),
        optional(ref(() => ids.spare, () => ids.tcp), 6),
        async (vip, values, pool) =>
          attempt(
            'vip update',
            () => updateVip(ctx, vip, {...values, pool: pool as string | undefined}),
            (updated) => {
              checkRendering(graphOf(updated.pool_id))
              checkRendering(graphOf(ids.web))
            },
            async (updated) => (updated.pool_id === ids.web ? undefined : updateVip(ctx, updated.id, {pool: ids.web})),
          ),
      ),
      fuzzOptions(400),
    )
  }, TIMEOUT)

  it('url_path and http_method one character away from valid: refused, or one word that reads back as given', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('HTTP', 'HTTPS'),
        nearValid(validUrlPath),
        nearValid(validHttpMethod),
        fc.boolean(),
        async (type, path, method, update) =>
          attempt(
            update ? 'monitor update (near-valid text)' : 'monitor create (near-valid text)',
            () =>
              update
                ? updateMonitor(ctx, ids.monitor, {url_path: path, http_method: method})
                : createMonitor(ctx, {type, delay: 5, timeout: 2, max_retries: 3, url_path: path, http_method: method}),
            (monitor) => {
              const graph = graphOf(ids.web)
              checkRendering(
                update
                  ? graph
                  : {
                      ...graph,
                      monitors: [monitor],
                      associations: [{pool_id: ids.web, monitor_id: monitor.id, status: 'ACTIVE', status_description: null, position: 0}],
                    },
              )
            },
            async (monitor) => (update ? undefined : deleteMonitor(ctx, monitor.id)),
          ),
      ),
      fuzzOptions(350),
    )
  }, TIMEOUT)

  it('cookie names one character away from valid: refused, or one sample-fetch argument that reads back as given', async () => {
    await fc.assert(
      fc.asyncProperty(nearValid(validCookieName), fc.boolean(), fc.boolean(), async (cookie, asObject, update) => {
        const persistence = asObject ? {type: 'APP_COOKIE', cookie_name: cookie} : `APP_COOKIE:${String(cookie)}`
        await attempt(
          update ? 'vip update (near-valid cookie)' : 'vip create (near-valid cookie)',
          () =>
            update
              ? updateVip(ctx, ids.vip, {session_persistence: persistence})
              : createVip(ctx, ids.spare, {name: 'c', protocol: 'HTTP', protocol_port: 80, subnet: ids.subnet, session_persistence: persistence}),
          (vip) => checkRendering(graphOf(vip.pool_id)),
          async (vip) => (update ? undefined : deleteVip(ctx, vip.id)),
        )
      }),
      fuzzOptions(350),
    )
  }, TIMEOUT)

  it('every property saw both accepted and rejected inputs, and the world is intact', () => {
    for (const [what, counts] of tally) {
      expect(counts.accepted, `${what}: no input was accepted`).toBeGreaterThan(0)
      expect(counts.rejected, `${what}: no input was rejected`).toBeGreaterThan(0)
    }
    expect(getVip(ctx.store.db, ids.vip)?.pool_id).toBe(ids.web)
    expect(getMember(ctx.store.db, ids.member)?.pool_id).toBe(ids.web)
  })
})
