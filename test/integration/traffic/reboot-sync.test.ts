/**
 * Issue 3 / SPEC §4.5: `lbaas sync` after a "reboot" (every HAProxy of this state file killed,
 * its namespaces deleted) restores service, a second sync changes nothing, `--dry-run` only
 * prints the plan, stale PENDING_* statuses are settled, orphans this tool owns (a pool
 * removed from the state file behind its back) are removed, and `pool stats` stays
 * cumulative across the killed-and-restarted HAProxy.
 */
import {existsSync} from 'node:fs'
import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Member, PoolStats} from '../../../src/domain/types.js'
import {provenHaproxy, runningMaster} from '../../../src/host/haproxy-process.js'
import {namespaceExists} from '../../../src/host/netns.js'
import {isAlive, waitUntilDead} from '../../../src/host/proc.js'
import {linkExists} from '../../../src/host/links.js'
import type {SyncAction, SyncResult} from '../../../src/service/sync.js'
import {rebootPool} from '../../helpers/pool-crash.js'
import {backendsSeen, tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('reboot')
let lab: LabInfo
let httpPool = ''
let tcpPool = ''
let httpMembers: Member[] = []
const httpVip = () => `${lab.base}.2`
const tcpVip = () => `${lab.base}.3`

function sync(...flags: string[]): Promise<SyncResult> {
  return world.cli.json<SyncResult>(['sync', ...flags, '--json'])
}

/** `sync --dry-run --json` prints the plan as an array (SPEC §4.5). */
async function dryRun(): Promise<SyncResult> {
  return {dry_run: true, actions: await world.cli.json<SyncAction[]>(['sync', '--dry-run', '--json']), failures: []}
}

function stats(poolId: string): Promise<PoolStats> {
  return world.cli.json<PoolStats>(['pool', 'stats', poolId, '--json'])
}

/** Every HAProxy process of the pool (master and workers), by PID. */
async function haproxyPids(poolId: string): Promise<number[]> {
  return (await provenHaproxy(world.paths(poolId))).map((process) => process.pid)
}

/** What a host reboot leaves of a pool: nothing running, no namespace (the run dir survives). */
async function reboot(poolIds: string[]): Promise<void> {
  for (const poolId of poolIds) {
    await rebootPool(world.paths(poolId), `lbaas-${poolId}`)
    expect(namespaceExists(`lbaas-${poolId}`)).toBe(false)
  }
}

function deployActions(result: SyncResult): string[] {
  return result.actions.filter((action) => action.kind === 'deploy').map((action) => action.target)
}

beforeAll(async () => {
  lab = await world.lab(2)
  httpPool = (await world.pool('web', 'HTTP', 'ROUND_ROBIN', lab)).id
  tcpPool = (await world.pool('raw', 'TCP', 'ROUND_ROBIN', lab)).id
  for (const n of [1, 2]) {
    httpMembers.push(await world.member(httpPool, lab.backend(n).address))
    await world.member(tcpPool, lab.backend(n).address)
  }
  const monitor = await world.monitor(['--type', 'HTTP', '--delay', '1', '--timeout', '1', '--max-retries', '1', '--url-path', '/healthz'])
  await world.cli.json(['monitor', 'associate', monitor.id, httpPool, '--json'])
  await world.vip(httpPool, 'web-vip', 'HTTP', 80, lab, httpVip())
  await world.vip(tcpPool, 'raw-vip', 'TCP', 9000, lab, tcpVip())
})

afterAll(async () => {
  await world.cleanup()
})

describe('lbaas sync', () => {
  it('finds nothing to do on a healthy host', async () => {
    expect(await dryRun()).toEqual({dry_run: true, actions: [], failures: []})
    expect(await sync()).toEqual({dry_run: false, actions: [], failures: []})
  })

  it('after a reboot, --dry-run prints the plan and changes nothing', async () => {
    expect((await tally(httpVip(), 80, 20)).ok).toBe(20)
    expect((await tally(tcpVip(), 9000, 20)).ok).toBe(20)
    const before = await stats(httpPool)
    expect(before.total_connections).toBeGreaterThanOrEqual(20)

    await reboot([httpPool, tcpPool])
    const down = await tally(httpVip(), 80, 2, {timeoutMs: 1_500})
    expect(down.ok).toBe(0)

    const plan = await dryRun()
    expect(plan.dry_run).toBe(true)
    expect(deployActions(plan).sort()).toEqual([`pool raw (${tcpPool})`, `pool web (${httpPool})`].sort())
    for (const action of plan.actions.filter((candidate) => candidate.kind === 'deploy')) {
      expect(action.reason).toContain('namespace missing')
      expect(action.reason).toContain('HAProxy not running')
    }
    // Nothing was done.
    for (const poolId of [httpPool, tcpPool]) {
      expect(namespaceExists(`lbaas-${poolId}`)).toBe(false)
      expect(runningMaster(world.paths(poolId))).toBeUndefined()
    }
    expect((await tally(tcpVip(), 9000, 2, {timeoutMs: 1_500})).ok).toBe(0)
    // Stats of a pool that does not run are the stored totals: never lower than before.
    expect((await stats(httpPool)).total_connections).toBeGreaterThanOrEqual(before.total_connections)
  })

  it('restores service; a second sync changes nothing; stats stay cumulative across the restart', async () => {
    const before = await stats(httpPool)
    const applied = await sync()
    expect(applied.dry_run).toBe(false)
    expect(deployActions(applied).sort()).toEqual([`pool raw (${tcpPool})`, `pool web (${httpPool})`].sort())
    expect(applied.actions.filter((action) => action.kind === 'problem')).toEqual([])

    for (const poolId of [httpPool, tcpPool]) expect(namespaceExists(`lbaas-${poolId}`)).toBe(true)
    // More requests than the killed HAProxy had counted: the totals must still add up.
    const web = await tally(httpVip(), 80, before.total_connections + 40)
    expect(web.errors).toEqual([])
    expect(backendsSeen(web).sort()).toEqual([lab.backend(1).name, lab.backend(2).name].sort())
    const raw = await tally(tcpVip(), 9000, 20)
    expect(raw.errors).toEqual([])
    expect(raw.ok).toBe(20)

    expect(await sync()).toEqual({dry_run: false, actions: [], failures: []})
    const after = await stats(httpPool)
    expect(after.total_connections - before.total_connections).toBeGreaterThanOrEqual(before.total_connections + 40)
    expect(after.bytes_out).toBeGreaterThan(before.bytes_out)
    // The monitor runs again: health comes from the new HAProxy.
    await waitFor('members to be ACTIVE again', async () => {
      const members = await world.cli.json<Member[]>(['member', 'list', '--pool', httpPool, '--json'])
      return members.every((member) => member.status === 'ACTIVE' && member.operating_status === 'ONLINE') ? members : undefined
    })
  })

  it('settles a stale PENDING_* status left by a crash', async () => {
    const db = new Database(world.cli.statePath)
    try {
      db.prepare("UPDATE members SET status = 'PENDING_UPDATE' WHERE id = ?").run(httpMembers[0].id)
    } finally {
      db.close()
    }
    const plan = await dryRun()
    expect(plan.actions).toHaveLength(1)
    expect(plan.actions[0]).toMatchObject({kind: 'deploy', target: `pool web (${httpPool})`})
    expect(plan.actions[0].reason).toContain(`member ${httpMembers[0].id} PENDING_UPDATE`)
    const reloads = (await world.proc(httpPool)).master.reloads
    await sync()
    // The configuration did not change, so settling it reloads nothing.
    expect((await world.proc(httpPool)).master.reloads).toBe(reloads)
    const member = await world.cli.json<Member>(['member', 'show', httpMembers[0].id, '--json'])
    expect(member.status).toBe('ACTIVE')
    expect(await sync()).toEqual({dry_run: false, actions: [], failures: []})
  })

  it('removes what it owns of a pool deleted from the state file: process, namespace, VIP link, run-dir entry', async () => {
    const ghost = await world.pool('ghost', 'HTTP', 'ROUND_ROBIN', lab)
    await world.member(ghost.id, lab.backend(1).address)
    await world.vip(ghost.id, 'ghost-vip', 'HTTP', 80, lab, `${lab.base}.4`)
    expect((await tally(`${lab.base}.4`, 80, 3)).ok).toBe(3)
    const pids = await haproxyPids(ghost.id)
    const hostLink = `lbv${ghost.id.replaceAll('-', '').slice(0, 11)}`
    expect(linkExists(hostLink)).toBe(true)

    const db = new Database(world.cli.statePath)
    try {
      db.pragma('foreign_keys = ON')
      db.transaction(() => {
        db.prepare('DELETE FROM vips WHERE pool_id = ?').run(ghost.id)
        db.prepare('DELETE FROM pools WHERE id = ?').run(ghost.id)
      })()
    } finally {
      db.close()
    }

    const plan = await dryRun()
    expect(plan.actions).toContainEqual(expect.objectContaining({kind: 'remove-orphan', target: `pool ${ghost.id}`}))
    expect(plan.actions.every((action) => action.kind === 'remove-orphan')).toBe(true)
    expect(namespaceExists(`lbaas-${ghost.id}`)).toBe(true)
    for (const pid of pids) expect(isAlive(pid)).toBe(true)

    const applied = await sync()
    expect(applied.actions).toContainEqual(expect.objectContaining({kind: 'remove-orphan', target: `pool ${ghost.id}`}))
    for (const pid of pids) expect(await waitUntilDead(pid, 5_000)).toBe(true)
    expect(namespaceExists(`lbaas-${ghost.id}`)).toBe(false)
    expect(existsSync(world.paths(ghost.id).dir)).toBe(false)
    await waitFor('the VIP link to go with its namespace', async () => (linkExists(hostLink) ? undefined : true), 5_000, 50)
    expect((await tally(`${lab.base}.4`, 80, 2, {timeoutMs: 1_500})).ok).toBe(0)

    expect(await sync()).toEqual({dry_run: false, actions: [], failures: []})
    // The pools it still knows keep serving.
    expect((await tally(httpVip(), 80, 10)).ok).toBe(10)
    expect((await tally(tcpVip(), 9000, 10)).ok).toBe(10)
  })
})
