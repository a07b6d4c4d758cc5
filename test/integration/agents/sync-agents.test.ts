import {setTimeout as sleep} from 'node:timers/promises'
import {existsSync} from 'node:fs'

import Database from 'better-sqlite3'
import {describe, expect, it} from 'vitest'

import type {Pool} from '../../../src/domain/types.js'
import type {AgentDetails} from '../../../src/service/agents.js'
import type {SyncAction, SyncResult} from '../../../src/service/sync.js'
import {agentsWorld, type AgentKey} from '../../helpers/agents-world.js'
import {errorOf} from '../../helpers/cli.js'
import {tally} from '../../helpers/traffic.js'
import {claimTestCidr} from '../../helpers/unique.js'
import {gearmanJob} from '../worker/serve-worker-process.js'

/**
 * `lbaas sync` on a controller (SPEC §4.5 "Agent pools too", §6 "No pool is stranded"), with
 * a real gearmand and two real `serve-worker` agents on this host. Stopping an agent stands
 * for its host dying: the worker stops and its HAProxy and namespace go with it; starting it
 * again on the same state file is the host coming back (it restores what it hosted).
 */
const agents = agentsWorld({label: 'agsync', prefix: 'lbs', backends: 1, reviveAgentsForCleanup: true})
const {controller, names, dirs: agentDirs, startAgent, suffix} = agents
const pools: Record<string, Pool> = {}
const vipAddress = (n: number) => `${agents.lab.base}.${40 + n}`

async function killHost(key: AgentKey): Promise<void> {
  expect(await agents.workers[key]!.stop()).toBe(0)
  await agents.removeHostedLeftovers(key)
}

async function poolWithVip(name: string, agent: string, n: number | null): Promise<Pool> {
  const pool = await controller.json<Pool>(['pool', 'create', '--name', name, '--subnet', agents.lab.subnet, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '--agent', agent, '--json'])
  agents.world.poolIds.add(pool.id)
  pools[name] = pool
  await controller.json(['member', 'create', name, '--address', agents.lab.backend(1).address, '--protocol-port', '8000', '--json'])
  if (n !== null) {
    const vip = await controller.json<{status: string}>([
      'vip', 'create', name, '--name', `${name}-vip`, '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', agents.lab.subnet, '--address', vipAddress(n), '--json',
    ])
    expect(vip.status).toBe('ACTIVE')
  }
  return pool
}

const agentShow = (key: AgentKey) => controller.json<AgentDetails>(['agent', 'show', names[key], '--json'])
const poolShow = (name: string) => controller.json<Pool>(['pool', 'show', name, '--json'])
/** `sync --dry-run --json` prints the plan as a bare array (SPEC §4.5). */
const agentActions = (actions: readonly SyncAction[]) =>
  actions.filter((action) => Object.values(pools).some((pool) => action.target.includes(pool.id)) || action.target.startsWith('agent'))

async function answers(n: number): Promise<void> {
  const result = await tally(vipAddress(n), 80, 3)
  expect(result.errors).toEqual([])
}

describe('sync settles pools placed on agents', () => {
  it('a failed move leaves nothing on the destination, and the pool keeps serving where it was', async () => {
    // Agent b's host has a subnet of its own with the name of the controller's subnet, in use:
    // b refuses the pool's DEPLOY (duplicate_name), as a host with other tenants would.
    const onB = agents.agentCli('b')
    const claim = claimTestCidr()
    await onB.json(['subnet', 'create', agents.lab.subnet, '--cidr', claim.cidr, '--json'])
    await onB.json(['pool', 'create', '--name', 'own', '--subnet', agents.lab.subnet, '--protocol', 'TCP', '--lb-method', 'ROUND_ROBIN', '--json'])
    try {
      await poolWithVip('p1', names.a, 1)
      const move = await controller.run(['pool', 'update', 'p1', '--agent', names.b, '--json'])
      expect([move.exitCode, errorOf(move).code]).toEqual([4, 'duplicate_name'])
      const p1 = await poolShow('p1')
      expect([p1.agent, p1.status]).toEqual([names.a, 'ERROR'])
      const b = await agentShow('b')
      expect(b.hosted_pools.map((hosted) => hosted.id)).toEqual([])
      expect(b.pending_undeploys).toEqual([])
      // b's clean-up touched nothing of a's (both agents share this one host and its namespace names).
      await answers(1)
    } finally {
      await onB.run(['pool', 'delete', 'own', '--yes'])
      await onB.run(['subnet', 'delete', agents.lab.subnet, '--yes'])
      claim.release()
    }
  })

  it('a pool undeployed on its agent behind the controller is redeployed; ERROR is settled; the next sync has nothing to do', async () => {
    await poolWithVip('p2', names.b, 2)
    const undeployed = await gearmanJob(agents.gearmand.port, names.b, {lbaas_action: 'UNDEPLOY', lbaas_version: 1, pool_id: pools.p2!.id})
    expect(undeployed.lbaas_response).toBe('PASS')

    const plan = await controller.json<SyncAction[]>(['sync', '--dry-run', '--json'])
    expect(agentActions(plan).map(({kind, target, reason}) => ({kind, target, reason}))).toEqual([
      {kind: 'deploy', target: `pool p1 (${pools.p1!.id})`, reason: expect.stringContaining('pool ERROR')},
      {kind: 'deploy', target: `pool p2 (${pools.p2!.id})`, reason: `not deployed on agent ${names.b}`},
    ])
    const synced = await controller.json<SyncResult>(['sync', '--json'])
    expect(synced.failures).toEqual([])
    await answers(2)
    expect((await poolShow('p1')).status).toBe('ACTIVE')
    expect(agentActions(await controller.json<SyncAction[]>(['sync', '--dry-run', '--json']))).toEqual([])
  })

  it('a VIP deleted while its agent is down is recorded, and removed from the agent by sync when it returns', async () => {
    await killHost('a')
    const deleted = await controller.run(['vip', 'delete', 'p1-vip', '--yes', '--json'])
    expect([deleted.exitCode, errorOf(deleted).code]).toEqual([1, 'agent_unreachable'])
    expect((await agentShow('a')).pending_undeploys).toEqual([pools.p1!.id])
    expect((await poolShow('p1')).status_description).toContain('run `lbaas sync`')

    // The host comes back and restores the pool from its own state file: it serves the address again.
    await startAgent('a')
    const synced = await controller.json<SyncResult>(['sync', '--json'])
    expect(synced.failures).toEqual([])
    expect(agentActions(synced.actions).map((action) => action.kind)).toContain('undeploy')
    const a = await agentShow('a')
    expect([a.hosted_pools, a.pending_undeploys]).toEqual([[], []])
    expect(existsSync(`${agentDirs.a.path}/run/${pools.p1!.id}/haproxy.pid`)).toBe(false)
    expect((await poolShow('p1')).status).toBe('ACTIVE')
  })
})

describe('no pool is stranded', () => {
  it("status over all pools with a dead agent's pool: a warning on that pool, exit 0", async () => {
    await poolWithVip('p3', names.b, null)
    await killHost('b')
    const status = await controller.run(['status', '--json'])
    expect(status.exitCode).toBe(0)
    expect(status.stderr).toContain('pool p2')
    expect(status.stderr).toContain(`agent ${names.b} did not answer`)
    const trees = JSON.parse(status.stdout) as {pool: {name: string}}[]
    expect(trees.map((tree) => tree.pool.name).sort()).toEqual(['p1', 'p2', 'p3'])
  })

  it('sync moves the pools of a dead agent to a live one, at most --max-moves per run', async () => {
    await sleep(1_100)
    const first = await controller.run(['sync', '--dead-after', '1', '--max-moves', '1', '-f', 'csv'])
    expect(first.exitCode).toBe(1)
    expect(first.stdout).toContain(`move,pool p2 (${pools.p2!.id})`)
    expect(first.stderr).toContain('--max-moves 1')
    expect([(await poolShow('p2')).agent, (await poolShow('p3')).agent]).toEqual([names.a, names.b])
    await answers(2)

    const second = await controller.run(['sync', '--dead-after', '1', '--max-moves', '1'])
    expect(second.exitCode).toBe(0)
    const moved = await Promise.all(['p2', 'p3'].map((name) => poolShow(name)))
    expect(moved.map((pool) => [pool.agent, pool.status])).toEqual([
      [names.a, 'ACTIVE'],
      [names.a, 'ACTIVE'],
    ])
    // p3 had no VIP: nothing of it ran on b.
    expect((await agentShow('b')).pending_undeploys).toEqual([pools.p2!.id])
  })

  it('the dead agent comes back: sync removes the moved pools from it', async () => {
    await startAgent('b')
    const synced = await controller.json<SyncResult>(['sync', '--json'])
    expect(synced.failures).toEqual([])
    const b = await agentShow('b')
    expect([b.hosted_pools, b.pending_undeploys]).toEqual([[], []])
    expect(existsSync(`${agentDirs.b.path}/run/${pools.p2!.id}/haproxy.pid`)).toBe(false)
  })

  it('partition guard: more than half of the known agents dead → nothing moves, reported, exit 1', async () => {
    // An agent this controller saw long ago and never again, besides b dying now.
    const db = new Database(controller.statePath)
    try {
      db.prepare('INSERT INTO agents (name, version, last_seen, info) VALUES (?, NULL, ?, NULL)').run(`lbs-ghost-${suffix}`, '2026-01-01T00:00:00.000Z')
    } finally {
      db.close()
    }
    const back = await controller.run(['pool', 'update', 'p3', '--agent', names.b, '--json'])
    expect(back.exitCode).toBe(0)
    await killHost('b')
    await sleep(1_100)
    const guarded = await controller.run(['sync', '--dead-after', '1'])
    expect(guarded.exitCode).toBe(1)
    expect(guarded.stdout + guarded.stderr).toMatch(/2 of 3 known agents look dead/)
    expect((await poolShow('p3')).agent).toBe(names.b)
  })
})
