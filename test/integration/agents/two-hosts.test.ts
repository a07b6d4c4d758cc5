import {existsSync, readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import type {Member, Pool} from '../../../src/domain/types.js'
import {showProc} from '../../../src/haproxy/runtime.js'
import {poolPaths} from '../../../src/host/names.js'
import type {AgentDetails, AgentSummary} from '../../../src/service/agents.js'
import {lbaasVersion} from '../../../src/worker/version.js'
import {agentsWorld} from '../../helpers/agents-world.js'
import {errorOf} from '../../helpers/cli.js'
import {rebootPool} from '../../helpers/pool-crash.js'
import {backendsSeen, send, tally} from '../../helpers/traffic.js'
import {waitFor} from '../../helpers/wait.js'

/**
 * Pools on many hosts (SPEC §6): two `serve-worker` processes with their own function names
 * and state files stand for two hosts; the CLI with LBAAS_GEARMAN_SERVERS is the controller.
 * `auto` spreads pools, traffic flows through both VIPs, a stopped agent makes its pool's
 * commands fail cleanly (exit 1, ERROR with the reason, never PENDING_*), and moving the
 * pool to the live agent restores service.
 */
const agents = agentsWorld({label: 'agents', prefix: 'lbt', backends: 2})
const {controller, names, dirs: agentDirs, workers, world} = agents
const pools: Record<string, Pool> = {}
const vipAddress = (n: number) => `${agents.lab.base}.${20 + n}`

describe('two agents', () => {
  it('agent list finds both, alive, with their version', async () => {
    const agents = await controller.json<AgentSummary[]>(['agent', 'list', '--json'])
    expect(agents.map(({name, alive, pools: count, version}) => ({name, alive, pools: count, version}))).toEqual([
      {name: names.a, alive: true, pools: 0, version: lbaasVersion()},
      {name: names.b, alive: true, pools: 0, version: lbaasVersion()},
    ])
    expect(agents.every((agent) => agent.last_seen !== null)).toBe(true)
  })

  it('pool create --agent auto spreads the pools over the agents', async () => {
    for (const name of ['p1', 'p2']) {
      pools[name] = await controller.json<Pool>(['pool', 'create', '--name', name, '--subnet', agents.lab.subnet, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '--agent', 'auto', '--json'])
      world.poolIds.add(pools[name].id)
    }
    expect([pools.p1!.agent, pools.p2!.agent]).toEqual([names.a, names.b])
  })

  it('members and VIPs deploy on each pool\'s agent, and traffic flows through both VIPs', async () => {
    for (const [index, name] of ['p1', 'p2'].entries()) {
      for (const n of [1, 2]) {
        const member = await controller.json<Member>(['member', 'create', name, '--address', agents.lab.backend(n).address, '--protocol-port', '8000', '--json'])
        expect(member.status).toBe('ACTIVE')
      }
      const vip = await controller.json<{status: string}>([
        'vip', 'create', name, '--name', `${name}-vip`, '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', agents.lab.subnet,
        '--address', vipAddress(index + 1), '--json',
      ])
      expect(vip.status).toBe('ACTIVE')
    }
    for (const n of [1, 2]) {
      const result = await tally(vipAddress(n), 80, 6)
      expect(result.errors).toEqual([])
      expect(backendsSeen(result).sort()).toEqual([agents.lab.backend(1).name, agents.lab.backend(2).name])
    }
    // The HAProxy of each pool runs from its agent's run dir, not the controller's.
    expect(existsSync(`${agentDirs.a.path}/run/${pools.p1!.id}/haproxy.cfg`)).toBe(true)
    expect(existsSync(`${agentDirs.b.path}/run/${pools.p2!.id}/haproxy.cfg`)).toBe(true)
    expect(existsSync(`${world.runDir}/${pools.p1!.id}/haproxy.cfg`)).toBe(false)
  })

  it('pool stats, member list and status work as for a local pool', async () => {
    const stats = await controller.json<{bytes_out: number; total_connections: number}>(['pool', 'stats', 'p1', '--json'])
    expect(stats.total_connections).toBeGreaterThanOrEqual(6)
    expect(stats.bytes_out).toBeGreaterThan(0)
    const members = await controller.json<Member[]>(['member', 'list', '--pool', 'p2', '--json'])
    expect(members.map((member) => [member.status, member.operating_status])).toEqual([
      ['ACTIVE', 'NO_MONITOR'],
      ['ACTIVE', 'NO_MONITOR'],
    ])
    const shown = await controller.json<AgentDetails>(['agent', 'show', names.a, '--json'])
    expect(shown.hosted_pools.map((pool) => [pool.id, pool.running])).toEqual([[pools.p1!.id, true]])
    expect(shown.servers).toEqual([`127.0.0.1:${agents.gearmand.port}`])
  })

  it("a monitor's health and a member's weight reach the agent (DEPLOY, then RUNTIME without a reload)", async () => {
    const monitor = await controller.json<{id: string}>([
      'monitor', 'create', '--type', 'HTTP', '--delay', '1', '--timeout', '1', '--max-retries', '1', '--url-path', '/healthz', '--json',
    ])
    expect((await controller.run(['monitor', 'associate', monitor.id, 'p2'])).exitCode).toBe(0)
    const online = await waitFor('p2 members ONLINE', async () => {
      const members = await controller.json<Member[]>(['member', 'list', '--pool', 'p2', '--json'])
      return members.every((member) => member.operating_status === 'ONLINE') ? members : undefined
    })
    const config = `${agentDirs.b.path}/run/${pools.p2!.id}/haproxy.cfg`
    const masterSocket = `${agentDirs.b.path}/run/${pools.p2!.id}/master.sock`
    const reloadsBefore = (await showProc(masterSocket)).master.reloads
    const updated = await controller.json<Member>(['member', 'update', online[0]!.id, '--weight', '7', '--json'])
    expect([updated.weight, updated.status]).toEqual([7, 'ACTIVE'])
    expect(readFileSync(config, 'utf8')).toMatch(new RegExp(`server ${online[0]!.id} \\S+ weight 7 `))
    expect((await showProc(masterSocket)).master.reloads).toBe(reloadsBefore)
    const stat = await controller.json<{members: {id: string; health: string}[]}>(['pool', 'stats', 'p2', '--json'])
    expect(stat.members.map((member) => member.health)).toEqual(['L7OK', 'L7OK'])
  })
})

describe('lbaas apply places pools on agents', () => {
  const file = (agent: string) =>
    [
      'apiVersion: lbaas/v1',
      `stack: agents-${agents.suffix}`,
      'pools:',
      '  - name: p3',
      `    subnet: ${agents.lab.subnet}`,
      '    protocol: HTTP',
      '    lb_method: ROUND_ROBIN',
      `    agent: ${agent}`,
      `    members: [{address: ${agents.lab.backend(1).address}, protocol_port: 8000}]`,
      `    vip: {name: p3-vip, protocol_port: 80, address: ${vipAddress(3)}}`,
    ].join('\n')
  const hosted = async (key: 'a' | 'b') => (await controller.json<AgentDetails>(['agent', 'show', names[key], '--json'])).hosted_pools.map((pool) => pool.id)

  it('a pool of a file deploys on its agent with no warning; moved by the file, it leaves the old agent', async () => {
    const created = await controller.run(['apply', '-f', '-'], {input: file(names.b)})
    expect(created.stderr).not.toMatch(/warning|error/)
    expect(created.exitCode).toBe(0)
    const pool = await controller.json<Pool>(['pool', 'show', 'p3', '--json'])
    world.poolIds.add(pool.id)
    expect([pool.agent, pool.status]).toEqual([names.b, 'ACTIVE'])
    expect(await hosted('b')).toContain(pool.id)
    expect((await tally(vipAddress(3), 80, 3)).errors).toEqual([])

    const moved = await controller.run(['apply', '-f', '-'], {input: file(names.a)})
    expect(moved.stderr).not.toMatch(/warning|error/)
    expect(moved.exitCode).toBe(0)
    expect((await controller.json<Pool>(['pool', 'show', 'p3', '--json'])).agent).toBe(names.a)
    expect(await hosted('a')).toContain(pool.id)
    expect(await hosted('b')).not.toContain(pool.id)
    expect((await tally(vipAddress(3), 80, 3)).errors).toEqual([])
    expect((await controller.run(['vip', 'delete', 'p3-vip', '--yes'])).exitCode).toBe(0)
    expect((await controller.run(['pool', 'delete', 'p3', '--yes'])).exitCode).toBe(0)
    expect(await hosted('a')).not.toContain(pool.id)
  })
})

describe('an agent goes away', () => {
  it('stop agent a, and its host with it (its HAProxy and namespace): VIP 1 stops answering', async () => {
    expect(await workers.a!.stop()).toBe(0)
    await rebootPool(poolPaths(`${agentDirs.a.path}/run`, pools.p1!.id), `lbaas-${pools.p1!.id}`)
    await expect(send(vipAddress(1), 80, {timeoutMs: 2_000})).rejects.toThrow()
  })

  it("its pool's commands fail with exit 1 and the status says why; nothing is left PENDING", async () => {
    const update = await controller.run(['pool', 'update', 'p1', '--lb-method', 'LEAST_CONNECTIONS', '--json'])
    expect(update.exitCode).toBe(1)
    expect(errorOf(update).code).toBe('agent_unreachable')
    const pool = await controller.json<Pool>(['pool', 'show', 'p1', '--json'])
    expect(pool.status).toBe('ERROR')
    expect(pool.status_description).toContain(`agent ${names.a} did not answer`)

    const listOne = await controller.run(['member', 'list', '--pool', 'p1', '--json'])
    expect([listOne.exitCode, errorOf(listOne).code]).toEqual([1, 'agent_unreachable'])
    const weight = await controller.run(['member', 'update', pool.members[0]!, '--weight', '3', '--json'])
    expect([weight.exitCode, errorOf(weight).code]).toEqual([1, 'agent_unreachable'])
    // Over all pools, a dead agent is a warning: the other pools are still listed.
    const all = await controller.run(['member', 'list', '--json'])
    expect(all.exitCode).toBe(0)
    expect(all.stderr).toContain(`agent ${names.a} did not answer`)
    const members = JSON.parse(all.stdout) as Member[]
    expect(members.find((member) => member.id === pool.members[0])?.status).toBe('ERROR')
    expect(members.filter((member) => member.pool_id === pools.p2!.id).map((member) => member.status)).toEqual(['ACTIVE', 'ACTIVE'])

    const stats = await controller.run(['pool', 'stats', 'p1', '--json'])
    expect([stats.exitCode, errorOf(stats).code]).toEqual([1, 'agent_unreachable'])

    const statuses = [
      ...(await controller.json<{status: string}[]>(['vip', 'list', '--json'])),
      ...(await controller.json<{status: string}[]>(['pool', 'list', '--json'])),
      ...members,
    ].map((object) => object.status)
    expect(statuses.filter((status) => status.startsWith('PENDING_'))).toEqual([])
  })

  it('agent list shows it dead; the other agent and its VIP are untouched', async () => {
    const agents = await controller.json<AgentSummary[]>(['agent', 'list', '--json'])
    expect(agents.map(({name, alive, pools: count}) => ({name, alive, pools: count}))).toEqual([
      {name: names.a, alive: false, pools: 1},
      {name: names.b, alive: true, pools: 1},
    ])
    expect((await tally(vipAddress(2), 80, 3)).ok).toBe(3)
  })

  it('moving the pool to the live agent restores service; agent a is to drop it when it answers again', async () => {
    const moved = await controller.json<Pool>(['pool', 'update', 'p1', '--agent', names.b, '--json'])
    expect([moved.agent, moved.status, moved.status_description]).toEqual([names.b, 'ACTIVE', null])
    const result = await tally(vipAddress(1), 80, 6)
    expect(result.errors).toEqual([])
    expect(backendsSeen(result).sort()).toEqual([agents.lab.backend(1).name, agents.lab.backend(2).name])
    const shown = await controller.json<AgentDetails>(['agent', 'show', names.a, '--json'])
    expect(shown.pending_undeploys).toEqual([pools.p1!.id])
    expect((await controller.json<AgentSummary[]>(['agent', 'list', '--json'])).find((agent) => agent.name === names.b)?.pools).toBe(2)
  })
})
