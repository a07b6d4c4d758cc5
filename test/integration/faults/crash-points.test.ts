/**
 * Issue 6, part 1: the CLI is killed (SIGKILL, like a power cut) at every crash point of
 * the deploy pipeline (SPEC §4.3) and of the VIP and pool delete flows (src/util/crash-point.ts),
 * then `lbaas sync` runs. After each: the state file holds exactly the rows the commands
 * asked for (no loss, no duplicate, nothing PENDING_*), the host matches it (namespace,
 * HAProxy serving exactly the state's members, VIP answering, or all of it gone after a
 * delete), nothing of ours is orphaned, the dead command's pool lock was broken, and a
 * second sync plans nothing.
 *
 * Pool A walks "create VIP" (HAProxy started) and "delete VIP"; pool B stays deployed and
 * walks "add member" / "delete member" (HAProxy reloaded); pool C is deleted.
 */
import {existsSync, readFileSync} from 'node:fs'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {poolLockPath} from '../../../src/host/names.js'
import {isAlive} from '../../../src/host/proc.js'
import type {SyncAction, SyncResult} from '../../../src/service/sync.js'
import {CRASH_POINTS, type CrashPoint} from '../../../src/util/crash-point.js'
import {errorOf, type CliResult} from '../../helpers/cli.js'
import {tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {expectConverged, readState} from './host-state.js'

const world = trafficLab('crash')
let lab: LabInfo
let monitorId = ''
const pool = {a: '', b: '', c: ''}
const vipAddress = {a: () => `${lab.base}.2`, b: () => `${lab.base}.3`}

const points = (...groups: string[]) =>
  (Object.entries(CRASH_POINTS) as [CrashPoint, string][]).filter(([, group]) => groups.includes(group)).map(([point]) => point)
/** A first deploy: `vip create` starts HAProxy. */
const START_POINTS = points('deploy', 'deploy-start')
/** A later deploy: `member create` / `member delete` reload HAProxy. */
const RELOAD_POINTS = points('deploy', 'deploy-reload')
/** `vip delete`: PENDING_DELETE, the host cleared, the row removed. */
const VIP_DELETE_POINTS = points('undeploy', 'vip-delete')
const POOL_DELETE_POINTS = points('pool-delete')
/** Points reached before the command takes the pool lock. */
const OUTSIDE_LOCK: readonly CrashPoint[] = ['vip-delete-after-pending', 'pool-delete-after-row-removed']

async function crashAt(point: CrashPoint, args: string[]): Promise<CliResult> {
  const result = await world.cli.run(args, {env: {LBAAS_TEST_CRASH_AT: point}})
  expect(result.signal, `lbaas ${args.join(' ')} should die at ${point}:\n${result.stderr}`).toBe('SIGKILL')
  return result
}

/** The dead command's pool lock is there (held by a dead process) exactly when it crashed inside the lock. */
function expectStaleLock(point: CrashPoint, poolId: string): void {
  const path = poolLockPath(world.runDir, poolId)
  if (OUTSIDE_LOCK.includes(point)) {
    expect(existsSync(path)).toBe(false)
    return
  }
  const holder = Number(readFileSync(path, 'utf8').split(' ')[0])
  expect(isAlive(holder)).toBe(false)
}

function sync(...flags: string[]): Promise<SyncResult> {
  return world.cli.json<SyncResult>(['sync', ...flags, '--json'])
}

/** sync, then the host must match the state file and a second sync must plan nothing. */
async function syncAndExpectConverged(): Promise<SyncResult> {
  const applied = await sync()
  expect(applied.actions.filter((action) => action.kind === 'problem')).toEqual([])
  await converged()
  return applied
}

const converged = () => expectConverged(world, lab, {pools: world.poolIds})

function rowsOf(poolId: string) {
  const state = readState(world.cli.statePath)
  return {
    pool: state.pools.filter((row) => row.id === poolId),
    vips: state.vips.filter((row) => row.pool_id === poolId),
    members: state.members.filter((row) => row.pool_id === poolId).map((row) => `${row.address}:${row.protocol_port}`).sort(),
    associations: state.associations.filter((row) => row.pool_id === poolId).map((row) => row.monitor_id),
    monitors: state.monitors.map((row) => row.id),
  }
}

async function expectServes(address: string): Promise<void> {
  const answers = await tally(address, 80, 4)
  expect(answers.errors).toEqual([])
  expect(answers.ok).toBe(4)
}

async function expectSilent(address: string): Promise<void> {
  expect((await tally(address, 80, 1, {timeoutMs: 1_000})).ok).toBe(0)
}

/**
 * Every case starts from the state it needs, whatever the case before it left (a failed
 * case must not fail the next ones): pool A without a VIP, pool B with exactly `members`,
 * and a host that matches the state file.
 */
async function startFrom(state: {poolAVip: false} | {poolBMembers: number[]}): Promise<void> {
  if ('poolAVip' in state) {
    for (const vip of rowsOf(pool.a).vips) await world.cli.run(['vip', 'delete', vip.id, '--yes', '--json'])
  } else {
    const wanted = state.poolBMembers.map(member)
    const rows = readState(world.cli.statePath).members.filter((row) => row.pool_id === pool.b)
    for (const row of rows) {
      if (!wanted.includes(`${row.address}:${row.protocol_port}`)) await world.cli.run(['member', 'delete', row.id, '--yes', '--json'])
    }
    for (const n of state.poolBMembers) {
      if (!rows.some((row) => `${row.address}:${row.protocol_port}` === member(n))) {
        await world.cli.run(['member', 'create', pool.b, '--address', lab.backend(n).address, '--protocol-port', '8000', '--json'])
      }
    }
  }
  await syncAndExpectConverged()
}

const vipCreate = () => ['vip', 'create', pool.a, '--name', 'a-vip', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', lab.subnet, '--address', vipAddress.a(), '--json']
const member = (n: number) => `${lab.backend(n).address}:8000`

beforeAll(async () => {
  lab = await world.lab(2)
  monitorId = (await world.monitor(['--type', 'HTTP', '--delay', '1', '--timeout', '1', '--max-retries', '1', '--url-path', '/healthz'])).id
  for (const key of ['a', 'b', 'c'] as const) {
    pool[key] = (await world.pool(`crash-${key}`, 'HTTP', 'ROUND_ROBIN', lab)).id
    await world.member(pool[key], lab.backend(1).address)
    await world.cli.json(['monitor', 'associate', monitorId, pool[key], '--json'])
  }
  await world.vip(pool.b, 'b-vip', 'HTTP', 80, lab, vipAddress.b())
})

afterAll(async () => {
  await world.cleanup()
})

describe('crash points', () => {
  it('every crash point is reached by a scenario below', () => {
    const covered = new Set([...START_POINTS, ...RELOAD_POINTS, ...VIP_DELETE_POINTS, ...POOL_DELETE_POINTS])
    // The worker's points are covered by worker-crash.test.ts, apply's by declarative/apply-crash.test.ts.
    const cliPoints = (Object.entries(CRASH_POINTS) as [CrashPoint, string][]).filter(([, group]) => group !== 'worker' && group !== 'apply').map(([point]) => point)
    expect([...covered].sort()).toEqual(cliPoints.sort())
    // The worker's own points are covered by worker-crash.test.ts.
    expect(Object.values(CRASH_POINTS).filter((group) => group === 'worker').length).toBeGreaterThan(0)
  })
})

describe('vip create killed at each step of a first deploy, then vip delete killed at each step', () => {
  it.each(START_POINTS.map((point, index) => [point, VIP_DELETE_POINTS[index] ?? 'no point (a plain delete)'] as const))(
    'create killed at %s, delete killed at %s',
    async (createPoint, deletePoint) => {
      await startFrom({poolAVip: false})
      await crashAt(createPoint, vipCreate())
      expectStaleLock(createPoint, pool.a)
      const created = await syncAndExpectConverged()
      expect(created.actions.map((action) => action.target)).toContain(`pool crash-a (${pool.a})`)
      let rows = rowsOf(pool.a)
      expect(rows.vips).toHaveLength(1)
      expect(rows.vips[0]).toMatchObject({address: vipAddress.a(), status: 'ACTIVE'})
      expect(rows.members).toEqual([member(1)])
      expect(rows.associations).toEqual([monitorId])
      await expectServes(vipAddress.a())
      if (createPoint === START_POINTS[0]) {
        // Running the killed command again is a conflict, not a second VIP.
        const again = await world.cli.run(vipCreate())
        expect([again.exitCode, errorOf(again).code]).toEqual([4, 'vip_exists'])
      }

      const vipId = rows.vips[0].id
      if (deletePoint in CRASH_POINTS) {
        await crashAt(deletePoint as CrashPoint, ['vip', 'delete', vipId, '--yes', '--json'])
        expectStaleLock(deletePoint as CrashPoint, pool.a)
        await syncAndExpectConverged()
      } else {
        await world.cli.json(['vip', 'delete', vipId, '--yes', '--json'])
        await converged()
      }
      rows = rowsOf(pool.a)
      expect(rows.vips).toEqual([])
      expect(rows.pool).toHaveLength(1)
      expect(rows.members).toEqual([member(1)])
      expect(rows.associations).toEqual([monitorId])
      await expectSilent(vipAddress.a())
      // Pool B was never touched and kept serving.
      await expectServes(vipAddress.b())
    },
  )
})

describe('member changes killed at each step of a reload', () => {
  it.each(RELOAD_POINTS.map((point, index) => [point, index % 2 === 0 ? 'create' : 'delete'] as const))(
    'killed at %s during member %s; sync restores service',
    async (point, change) => {
      await startFrom({poolBMembers: change === 'create' ? [1] : [1, 2]})
      const before = rowsOf(pool.b).members
      if (change === 'create') {
        expect(before).toEqual([member(1)])
        await crashAt(point, ['member', 'create', pool.b, '--address', lab.backend(2).address, '--protocol-port', '8000', '--json'])
      } else {
        expect(before).toEqual([member(1), member(2)])
        const id = readState(world.cli.statePath).members.find((row) => row.pool_id === pool.b && row.address === lab.backend(2).address)!.id
        await crashAt(point, ['member', 'delete', id, '--yes', '--json'])
      }
      expectStaleLock(point, pool.b)
      if (point === 'deploy-after-reload') {
        // Not only sync: the next ordinary command on the pool breaks the dead command's lock and settles it.
        await world.cli.json(['pool', 'update', pool.b, '--description', 'after a crash', '--json'])
        await converged()
      } else {
        await syncAndExpectConverged()
      }
      expect(rowsOf(pool.b).members).toEqual(change === 'create' ? [member(1), member(2)] : [member(1)])
      expect(rowsOf(pool.b).vips).toHaveLength(1)
      await expectServes(vipAddress.b())
    },
  )

  it('a member added by a command killed after the rename is really served after sync (not only written to the file)', async () => {
    // The regression this file found: a crash between the rename and the reload left the new
    // file on disk, and sync compared the file, not what HAProxy loaded.
    const members = rowsOf(pool.b).members
    const change = members.length === 1 ? 'create' : 'delete'
    if (change === 'create') {
      await crashAt('deploy-after-rename', ['member', 'create', pool.b, '--address', lab.backend(2).address, '--protocol-port', '8000', '--json'])
    } else {
      const id = readState(world.cli.statePath).members.find((row) => row.pool_id === pool.b && row.address === lab.backend(2).address)!.id
      await crashAt('deploy-after-rename', ['member', 'delete', id, '--yes', '--json'])
    }
    const plan = await world.cli.json<SyncAction[]>(['sync', '--dry-run', '--json'])
    expect(plan).toEqual([expect.objectContaining({kind: 'deploy', target: `pool crash-b (${pool.b})`})])
    expect(plan[0].reason).toContain('running configuration differs from the state file')
    await syncAndExpectConverged()
    const answers = await tally(vipAddress.b(), 80, 12)
    expect(answers.ok).toBe(12)
    const backends = Object.keys(answers.backends).sort()
    expect(backends).toEqual(change === 'create' ? [lab.backend(1).name, lab.backend(2).name].sort() : [lab.backend(1).name])
  })
})

describe('pool delete killed at each step', () => {
  it.each(POOL_DELETE_POINTS)('killed at %s: sync leaves no row and nothing on the host', async (point) => {
    await crashAt(point, ['pool', 'delete', pool.c, '--yes', '--json'])
    expectStaleLock(point, pool.c)
    await syncAndExpectConverged()
    const rows = rowsOf(pool.c)
    expect(rows).toMatchObject({pool: [], vips: [], members: [], associations: []})
    // The monitor was shared; it stays, still associated with the other pools.
    expect(rows.monitors).toContain(monitorId)
    expect(rowsOf(pool.a).associations).toEqual([monitorId])
    const again = await world.cli.run(['pool', 'delete', pool.c, '--yes', '--json'])
    expect([again.exitCode, errorOf(again).code]).toEqual([5, 'not_found'])
  })
})
