/**
 * Issue 3 / SPEC §4.3 steps 3 and 7: a configuration HAProxy refuses keeps the old one
 * serving.
 *
 * Nothing an operator can type through the CLI passes our validation and is then refused by
 * `haproxy -c` (that is the point of the validation), and the CLI has no switch that changes
 * what HAProxy is told about the host. So these tests drive the real pipeline (services,
 * pool lock, LocalExecutor, real HAProxy in the real namespace) on a pool the CLI deployed,
 * with an executor whose host facts are wrong, as on a broken host:
 * - the account HAProxy drops privileges to does not exist → `haproxy -c` refuses (step 3);
 * - the global maxconn is above the file-descriptor limit → `haproxy -c` passes, but no
 *   worker can start, so the reload fails and the last good configuration comes back (step 7).
 * In both, traffic through the VIP never stops, and `lbaas sync` with the right facts settles
 * the ERROR.
 */
import {existsSync, readFileSync} from 'node:fs'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {LbaasError} from '../../../src/domain/errors.js'
import type {Pool} from '../../../src/domain/types.js'
import {LocalExecutor, type LocalExecutorOptions} from '../../../src/host/executor.js'
import {haproxyAccount} from '../../../src/host/haproxy-process.js'
import {readFdLimit, safeMaxConn} from '../../../src/host/limits.js'
import {withPoolLock} from '../../../src/host/lock.js'
import {silentNotifier, type AppContext} from '../../../src/service/context.js'
import {updatePool} from '../../../src/service/pools.js'
import type {SyncAction, SyncResult} from '../../../src/service/sync.js'
import {openStore, type Store} from '../../../src/store/db.js'
import {backendsSeen, startLoad, tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'

const world = trafficLab('reject')
let lab: LabInfo
let poolId = ''
let vipAddress = ''
const stores: Store[] = []

/** The CLI's own wiring (service/wiring.ts), with some host facts replaced. */
function contextWith(overrides: Partial<LocalExecutorOptions>): AppContext {
  const store = openStore(world.cli.statePath)
  stores.push(store)
  const maxconn = safeMaxConn(readFdLimit().hard)
  const local = new LocalExecutor({runDir: world.runDir, maxconn, ...haproxyAccount(), notify: silentNotifier, ...overrides})
  return {
    store,
    statePath: world.cli.statePath,
    runDir: world.runDir,
    executorFor: () => local,
    localExecutor: local,
    withPoolLock: (id, work) => withPoolLock(world.runDir, id, work),
    safeConnectionLimit: () => maxconn,
    hostInspector: async () => local,
    processHost: async () => local,
    device: {restore: async () => undefined, renderStored: async () => null},
    notify: silentNotifier,
  }
}

async function failure(promise: Promise<unknown>): Promise<LbaasError> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(LbaasError)
    return error as LbaasError
  }
  throw new Error('expected the update to fail')
}

beforeAll(async () => {
  lab = await world.lab(2)
  poolId = (await world.pool('web', 'HTTP', 'ROUND_ROBIN', lab)).id
  for (const n of [1, 2]) await world.member(poolId, lab.backend(n).address)
  vipAddress = `${lab.base}.2`
  await world.vip(poolId, 'web-vip', 'HTTP', 80, lab, vipAddress)
})

afterAll(async () => {
  try {
    for (const store of stores) store.close()
  } finally {
    await world.cleanup()
  }
})

describe('a configuration HAProxy refuses', () => {
  it('at `haproxy -c`: exit 3, kept as haproxy.cfg.rejected, the running HAProxy untouched, the pool in ERROR', async () => {
    const config = world.config(poolId)
    const before = await world.proc(poolId)
    const load = startLoad({host: vipAddress, port: 80, keepAlive: 1, close: 1, maxRequests: 50_000, maxMs: 30_000, pauseMs: 5})
    let error: LbaasError
    try {
      error = await failure(updatePool(contextWith({user: 'lbt-no-such-user'}), poolId, {lb_method: 'LEAST_CONNECTIONS'}))
    } finally {
      const result = await load.stop()
      expect(result.errors.slice(0, 5)).toEqual([])
      expect(result.ok).toBeGreaterThan(0)
    }
    expect({code: error.code, exit: error.exit}).toEqual({code: 'config_rejected', exit: 3})
    expect(error.message).toContain('lbt-no-such-user')

    const paths = world.paths(poolId)
    expect(world.config(poolId)).toBe(config)
    const rejected = readFileSync(`${paths.dir}/haproxy.cfg.rejected`, 'utf8')
    expect(rejected).toContain('user lbt-no-such-user')
    expect(rejected).toContain('balance leastconn')
    expect(existsSync(`${paths.dir}/haproxy.cfg.new`)).toBe(false)
    const after = await world.proc(poolId)
    expect({reloads: after.master.reloads, workers: after.workers.map((worker) => worker.pid)}).toEqual({
      reloads: before.master.reloads,
      workers: before.workers.map((worker) => worker.pid),
    })

    const served = await tally(vipAddress, 80, 20)
    expect(served.ok).toBe(20)
    expect(backendsSeen(served)).toHaveLength(2)
    const pool = await world.cli.json<Pool>(['pool', 'show', poolId, '--json'])
    expect(pool.status).toBe('ERROR')
    expect(pool.status_description).toMatch(/^HAProxy rejected the configuration: .*lbt-no-such-user/)
  })

  it('`lbaas sync` (with the host as it is) deploys the state file and settles the ERROR', async () => {
    const plan = await world.cli.json<SyncAction[]>(['sync', '--dry-run', '--json'])
    // The redeploy, and possibly the removal of the refused candidate file HAProxy's check left.
    expect(plan).toEqual(
      expect.arrayContaining([
        expect.objectContaining({kind: 'deploy', target: `pool web (${poolId})`, reason: expect.stringContaining('running configuration differs')}),
      ]),
    )
    expect(plan.filter((action) => action.kind !== 'deploy'), JSON.stringify(plan)).toEqual(
      plan.filter((action) => action.kind === 'remove-orphan' && action.target.includes(poolId)),
    )
    await world.cli.json(['sync', '--json'])
    expect(world.config(poolId)).toContain('balance leastconn')
    expect((await world.cli.json<Pool>(['pool', 'show', poolId, '--json'])).status).toBe('ACTIVE')
    expect((await world.cli.json<SyncResult>(['sync', '--json'])).actions).toEqual([])
  })

  it('after `haproxy -c`, at reload: exit 1, the last good configuration restored and serving, the pool in ERROR', async () => {
    const config = world.config(poolId)
    const masterBefore = (await world.proc(poolId)).master.pid
    const load = startLoad({host: vipAddress, port: 80, keepAlive: 1, close: 1, maxRequests: 50_000, maxMs: 30_000, pauseMs: 5})
    let error: LbaasError
    try {
      // Far above the 20000 file descriptors HAProxy may use here: `-c` does not check that.
      error = await failure(updatePool(contextWith({maxconn: 100_000}), poolId, {lb_method: 'ROUND_ROBIN'}))
    } finally {
      const result = await load.stop()
      expect(result.errors.slice(0, 5)).toEqual([])
      expect(result.ok).toBeGreaterThan(0)
    }
    expect({code: error.code, exit: error.exit}).toEqual({code: 'deploy_failed', exit: 1})
    expect(error.message).toContain('the last good configuration was restored')

    expect(world.config(poolId)).toBe(config)
    expect(readFileSync(`${world.paths(poolId).dir}/haproxy.cfg.failed`, 'utf8')).toContain('maxconn 100000')
    const proc = await world.proc(poolId)
    expect(proc.master.pid).toBe(masterBefore)
    expect(proc.workers).toHaveLength(1)
    const served = await tally(vipAddress, 80, 20)
    expect(served.ok).toBe(20)
    expect((await world.cli.json<Pool>(['pool', 'show', poolId, '--json'])).status).toBe('ERROR')

    await world.cli.json(['sync', '--json'])
    expect(world.config(poolId)).toContain('balance roundrobin')
    expect((await world.cli.json<Pool>(['pool', 'show', poolId, '--json'])).status).toBe('ACTIVE')
    expect((await tally(vipAddress, 80, 10)).ok).toBe(10)
  })
})
