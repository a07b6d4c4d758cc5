import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {AgentUnreachableError, ConfigRejectedError} from '../../../src/domain/errors.js'
import type {Notifier} from '../../../src/service/context.js'
import {AgentExecutor} from '../../../src/agent/executor.js'
import type {AgentTransport} from '../../../src/agent/transport.js'
import {chooseAgent, listAgents, showAgent} from '../../../src/service/agents.js'
import {applyFile} from '../../../src/service/declarative.js'
import {createMember} from '../../../src/service/members.js'
import {createPool, deletePool, listAllPools, poolStats, showPool, updatePool} from '../../../src/service/pools.js'
import {statusTrees} from '../../../src/service/status.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {createVip, deleteVip, showVip} from '../../../src/service/vips.js'
import {planAgentSync} from '../../../src/service/sync-agents.js'
import {pendingUndeploys} from '../../../src/store/agents.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'
import {FakeNetwork, respond, runAgentSync} from '../../helpers/fake-agents.js'
import {rejectionOf} from '../../helpers/errors.js'


let network: FakeNetwork
let local: RecordingExecutor
let warnings: string[]
let ctx: ReturnType<typeof testContext>

beforeEach(() => {
  network = new FakeNetwork()
  local = new RecordingExecutor()
  warnings = []
  const base = testContext(local)
  const notify: Notifier = {warn: (message) => warnings.push(message), info: () => undefined, step: (_title, work) => work()}
  ctx = Object.assign(base, {
    notify,
    agentTransport: network as AgentTransport,
    executorFor: (pool: {id: string; agent: string}) => (pool.agent === 'local' ? local : new AgentExecutor(pool.agent, network, base.store)),
  })
})
afterEach(() => ctx.cleanup())

async function poolOnAgent(agent: string, name = 'web') {
  if (!(await ctx.store.read(() => ctx.store.db.prepare("SELECT 1 FROM subnets WHERE name = 'lab'").get()))) {
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
  }
  const pool = await createPool(ctx, {name, subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN', agent})
  await createMember(ctx, name, {address: '198.18.0.11', protocol_port: 8000})
  return pool
}

describe('AgentExecutor: native jobs and their answers', () => {
  it('DEPLOY carries the protocol version, a deadline and the whole graph; the outcome comes back', async () => {
    const agent = network.add('lb-a')
    await poolOnAgent('lb-a')
    const vip = await createVip(ctx, 'web', {name: 'web-vip', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    expect(vip.status).toBe('ACTIVE')
    const deploy = agent.received.find((message) => message.lbaas_action === 'DEPLOY')!
    expect(deploy.lbaas_version).toBe(1)
    expect(Date.parse(deploy.expires_at!)).toBeGreaterThan(Date.now())
    if (deploy.lbaas_action !== 'DEPLOY') throw new Error('unreachable')
    expect(deploy.graph.vip?.id).toBe(vip.id)
    expect(deploy.graph.members).toHaveLength(1)
    expect(local.methods().filter((method) => method !== 'ensureSubnet')).toEqual([])
  })

  it("an agent's config_rejected is ConfigRejectedError on the controller (exit 3), with HAProxy's words", async () => {
    const agent = network.add('lb-a')
    await poolOnAgent('lb-a')
    agent.handler = () => ({
      lbaas_response: 'FAIL',
      error: {code: 'config_rejected', message: 'HAProxy rejected it', exit: 3, haproxy_output: '[ALERT] bad line'},
    })
    const failure = createVip(ctx, 'web', {name: 'web-vip', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    await expect(failure).rejects.toBeInstanceOf(ConfigRejectedError)
    expect(showVip(ctx, 'web-vip').status_description).toBe('HAProxy rejected the configuration: [ALERT] bad line')
  })

  it("keeps the agent's code and exit code (validation: exit 2)", async () => {
    const agent = network.add('lb-a')
    await poolOnAgent('lb-a')
    agent.handler = () => ({lbaas_response: 'FAIL', error: {code: 'invalid_connection_limit', message: 'too many', exit: 2}})
    expect(await rejectionOf(createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'}))).toMatchObject({
      code: 'invalid_connection_limit',
      exit: 2,
    })
  })

  it('an answer that is not an lbaas answer is agent_protocol (exit 1)', async () => {
    const agent = network.add('lb-a')
    await poolOnAgent('lb-a')
    agent.handler = (message) => message
    expect(await rejectionOf(createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'}))).toMatchObject({code: 'agent_protocol', exit: 1})
  })

  it('counters stay cumulative across the agent\'s reloads and add up across a move', async () => {
    const a = network.add('lb-a')
    const b = network.add('lb-b')
    await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    a.counters = {bytes_in: 10, bytes_out: 100, total_connections: 1, active_connections: 0}
    expect((await poolStats(ctx, 'web')).bytes_out).toBe(100)
    await updatePool(ctx, 'web', {lb_method: 'LEAST_CONNECTIONS'}) // the agent reloads; its counters keep counting
    a.counters = {...a.counters, bytes_out: 150}
    expect((await poolStats(ctx, 'web')).bytes_out).toBe(150)
    await updatePool(ctx, 'web', {agent: 'lb-b'})
    b.counters = {bytes_in: 1, bytes_out: 20, total_connections: 1, active_connections: 0}
    expect((await poolStats(ctx, 'web')).bytes_out).toBe(170)
  })
})

describe('placement (--agent)', () => {
  it('local needs no job servers; anything else without them is a usage error', async () => {
    expect(await chooseAgent(ctx, undefined)).toBe('local')
    expect(await chooseAgent(ctx, 'local')).toBe('local')
    const standalone = {...ctx, agentTransport: undefined}
    expect(await rejectionOf(chooseAgent(standalone, 'auto'))).toMatchObject({code: 'invalid_agent', exit: 2})
  })

  it('auto: the live agent with the fewest pools, ties by name; auto spreads pools', async () => {
    network.add('lb-b')
    network.add('lb-a')
    network.add('lb-c', {alive: false})
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    const agents: string[] = []
    for (const name of ['p1', 'p2', 'p3']) {
      agents.push((await createPool(ctx, {name, subnet: 'lab', protocol: 'TCP', lb_method: 'ROUND_ROBIN', agent: 'auto'})).agent)
    }
    expect(agents).toEqual(['lb-a', 'lb-b', 'lb-a'])
  })

  it('auto with no live agent is no_live_agent (exit 1)', async () => {
    network.add('lb-a', {alive: false})
    expect(await rejectionOf(chooseAgent(ctx, 'auto'))).toMatchObject({code: 'no_live_agent', exit: 1})
  })

  it('a named agent must answer: dead but known → agent_unreachable (exit 1); unknown → invalid_agent (exit 2)', async () => {
    network.add('lb-a')
    expect(await chooseAgent(ctx, 'lb-a')).toBe('lb-a')
    network.agents.get('lb-a')!.alive = false
    expect(await rejectionOf(chooseAgent(ctx, 'lb-a'))).toMatchObject({code: 'agent_unreachable', exit: 1})
    expect(await rejectionOf(chooseAgent(ctx, 'nobody'))).toMatchObject({code: 'invalid_agent', exit: 2})
    expect(await rejectionOf(chooseAgent(ctx, 'two words'))).toMatchObject({code: 'invalid_agent', exit: 2})
  })
})

describe('a dead agent never leaves PENDING_*', () => {
  it('a change fails with agent_unreachable (exit 1) and the objects say why', async () => {
    const agent = network.add('lb-a')
    await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    agent.alive = false
    expect(await rejectionOf(updatePool(ctx, 'web', {lb_method: 'LEAST_CONNECTIONS'}))).toMatchObject({code: 'agent_unreachable', exit: 1})
    const pool = showPool(ctx, 'web')
    expect(pool.status).toBe('ERROR')
    expect(pool.status_description).toMatch(/agent lb-a did not answer/)
  })

  it('pool stats fails (exit 1) and marks the pool ERROR; status over all pools warns and goes on', async () => {
    const agent = network.add('lb-a')
    await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    agent.alive = false
    expect(await rejectionOf(poolStats(ctx, 'web'))).toMatchObject({code: 'agent_unreachable', exit: 1})
    expect(showPool(ctx, 'web').operating_status).toBe('ERROR')
    const trees = await statusTrees(ctx)
    expect(trees.map((tree) => tree.pool.name)).toEqual(['web'])
    expect(warnings.some((warning) => warning.includes('agent lb-a did not answer'))).toBe(true)
  })
})

describe('status over many pools', () => {
  it('asks their agents several at a time and still lists the pools in their order', async () => {
    const agent = network.add('lb-a')
    const created: string[] = []
    for (let index = 0; index < 12; index++) {
      const pool = await poolOnAgent('lb-a', `web-${index}`)
      await createVip(ctx, pool.id, {name: `v-${index}`, protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
      created.push(pool.id)
    }
    let running = 0
    let most = 0
    agent.handler = async (message) => {
      if (message.lbaas_action !== 'STATS') return respond(agent, message)
      running++
      most = Math.max(most, running)
      // Pools created later answer sooner: the answers arrive out of order.
      await new Promise((resolve) => setTimeout(resolve, 2 * (created.length - created.indexOf(message.pool_id))))
      running--
      return respond(agent, message)
    }
    const trees = await statusTrees(ctx)
    expect(trees.map((tree) => tree.pool.id)).toEqual(listAllPools(ctx).map((pool) => pool.id))
    expect(trees).toHaveLength(12)
    expect(most).toBeGreaterThan(1)
    expect(most).toBeLessThanOrEqual(8)
  })
})

describe('moving a pool (pool update --agent)', () => {
  it('deploys on the new agent first, then removes it from the old one', async () => {
    const a = network.add('lb-a')
    const b = network.add('lb-b')
    await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    a.received = []
    const moved = await updatePool(ctx, 'web', {agent: 'lb-b'})
    expect(moved.agent).toBe('lb-b')
    expect(moved.status).toBe('ACTIVE')
    expect(b.received.map((message) => message.lbaas_action)).toContain('DEPLOY')
    expect(a.received.map((message) => message.lbaas_action)).toContain('UNDEPLOY')
    expect(a.hosted.size).toBe(0)
  })

  it('from a dead agent: served by the new one at once, removed from the old one when it answers again', async () => {
    const a = network.add('lb-a')
    network.add('lb-b')
    const pool = await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    a.alive = false
    const moved = await updatePool(ctx, 'web', {agent: 'lb-b'})
    expect([moved.agent, moved.status]).toEqual(['lb-b', 'ACTIVE'])
    expect(warnings.some((warning) => warning.includes('will be removed from lb-a'))).toBe(true)
    expect(pendingUndeploys(ctx.store.db, 'lb-a')).toEqual([pool.id])
    expect((await showAgent(ctx, 'lb-a')).pending_undeploys).toEqual([pool.id])

    a.alive = true
    const listed = await listAgents(ctx)
    expect(listed.find((agent) => agent.name === 'lb-a')).toMatchObject({alive: true, pools: 0})
    expect(a.received.at(-1)).toMatchObject({lbaas_action: 'UNDEPLOY', pool_id: pool.id})
    expect(pendingUndeploys(ctx.store.db, 'lb-a')).toEqual([])
  })

  it('when the new agent fails, the pool stays where it runs and says why', async () => {
    network.add('lb-a')
    const b = network.add('lb-b')
    await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    b.handler = (message) =>
      message.lbaas_action === 'DISCOVER' ? respond(b, message) : {lbaas_response: 'FAIL', error: {code: 'bridge_missing', message: 'no bridge', exit: 1}}
    expect(await rejectionOf(updatePool(ctx, 'web', {agent: 'lb-b'}))).toMatchObject({code: 'bridge_missing', exit: 1})
    const pool = showPool(ctx, 'web')
    expect([pool.agent, pool.status]).toEqual(['lb-a', 'ERROR'])
    expect(pool.status_description).toBe('agent lb-b: no bridge')
  })

  it('a failed move leaves nothing on the destination: undeployed there at once', async () => {
    network.add('lb-a')
    const b = network.add('lb-b')
    const pool = await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    // The destination deploys, but its answer never arrives.
    b.handler = (message) => {
      if (message.lbaas_action !== 'DEPLOY') return respond(b, message)
      respond(b, message)
      throw new AgentUnreachableError('lb-b', 'timed out')
    }
    expect(await rejectionOf(updatePool(ctx, 'web', {agent: 'lb-b'}))).toMatchObject({code: 'agent_unreachable', exit: 1})
    expect(showPool(ctx, 'web').agent).toBe('lb-a')
    expect(b.hosted.has(pool.id)).toBe(false)
    expect(b.received.at(-1)).toMatchObject({lbaas_action: 'UNDEPLOY', pool_id: pool.id})
  })

  it('a failed move to a destination that then goes silent leaves a pending undeploy there', async () => {
    network.add('lb-a')
    const b = network.add('lb-b')
    const pool = await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    b.handler = (message) => {
      if (message.lbaas_action !== 'DEPLOY') return respond(b, message)
      respond(b, message)
      b.alive = false
      throw new AgentUnreachableError('lb-b', 'timed out')
    }
    expect(await rejectionOf(updatePool(ctx, 'web', {agent: 'lb-b'}))).toMatchObject({code: 'agent_unreachable', exit: 1})
    expect(pendingUndeploys(ctx.store.db, 'lb-b')).toEqual([pool.id])
  })

  it('moves between this host and an agent both ways', async () => {
    const a = network.add('lb-a')
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    const pool = await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    await updatePool(ctx, 'web', {agent: 'lb-a'})
    expect(local.calls.at(-1)).toMatchObject({method: 'undeploy', poolId: pool.id})
    expect(a.hosted.has(pool.id)).toBe(true)
    await updatePool(ctx, 'web', {agent: 'local'})
    expect(local.calls.at(-1)).toMatchObject({method: 'deploy', poolId: pool.id})
    expect(a.hosted.has(pool.id)).toBe(false)
    expect(showPool(ctx, 'web').agent).toBe('local')
  })

  it('deleting a pool of a dead agent works and leaves the clean-up for later', async () => {
    const a = network.add('lb-a')
    const pool = await poolOnAgent('lb-a')
    a.alive = false
    await deletePool(ctx, 'web')
    expect(pendingUndeploys(ctx.store.db, 'lb-a')).toEqual([pool.id])
  })
})

describe('lbaas apply with agents', () => {
  const file = (pools: {name: string; agent: string}[]) =>
    [
      'apiVersion: lbaas/v1',
      'stack: shop',
      'pools:',
      ...pools.flatMap(({name, agent}) => [
        `  - name: ${name}`,
        '    subnet: lab',
        '    protocol: HTTP',
        '    lb_method: ROUND_ROBIN',
        `    agent: ${agent}`,
        '    members: [{address: 198.18.0.11, protocol_port: 8000}]',
        `    vip: {name: ${name}-vip, protocol_port: 80}`,
      ]),
    ].join('\n')
  const actions = (agent: {received: {lbaas_action: string}[]}) => agent.received.map((message) => message.lbaas_action).filter((action) => action !== 'DISCOVER')

  it('creating pools undeploys nothing anywhere and warns of nothing', async () => {
    const a = network.add('lb-a')
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    const report = await applyFile(ctx, {text: file([{name: 'web', agent: 'lb-a'}, {name: 'api', agent: 'local'}]), prune: false})
    expect(report.errors).toEqual([])
    expect(warnings).toEqual([])
    expect(actions(a)).toEqual(['DEPLOY'])
    expect(local.methods().filter((method) => method === 'undeploy')).toEqual([])
    expect(showPool(ctx, 'web').status).toBe('ACTIVE')
  })

  it('moving a pool by file deploys on the new agent, then removes it from the old one', async () => {
    const a = network.add('lb-a')
    const b = network.add('lb-b')
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    await applyFile(ctx, {text: file([{name: 'web', agent: 'lb-a'}]), prune: false})
    const pool = showPool(ctx, 'web')
    a.received = []
    const report = await applyFile(ctx, {text: file([{name: 'web', agent: 'lb-b'}]), prune: false})
    expect(report.errors).toEqual([])
    expect(warnings).toEqual([])
    expect(actions(b)).toEqual(['DEPLOY'])
    expect(a.received.at(-1)).toMatchObject({lbaas_action: 'UNDEPLOY', pool_id: pool.id})
    expect(a.hosted.size).toBe(0)
  })
})

describe('agent list / agent show', () => {
  it('lists announced and known agents with liveness, pools, version and last_seen', async () => {
    network.add('lb-a')
    network.add('other-worker', {announced: false})
    network.add('lb-b')
    await poolOnAgent('lb-b')
    network.agents.get('lb-b')!.alive = false
    const listed = await listAgents(ctx)
    expect(listed.map(({name, alive, pools, version}) => ({name, alive, pools, version}))).toEqual([
      {name: 'lb-a', alive: true, pools: 0, version: '0.9.0'},
      {name: 'lb-b', alive: false, pools: 1, version: '0.9.0'},
    ])
    expect(Date.parse(listed[0]!.last_seen!)).toBeGreaterThan(Date.now() - 60_000)
    expect(Object.keys(listed[0]!)).toEqual(['name', 'alive', 'pools', 'version', 'last_seen'])
  })

  it('without job servers: the known agents, none alive, and a warning', async () => {
    network.add('lb-a')
    await poolOnAgent('lb-a')
    const standalone = {...ctx, agentTransport: undefined}
    expect((await listAgents(standalone)).map(({name, alive}) => ({name, alive}))).toEqual([{name: 'lb-a', alive: false}])
    expect(warnings.some((warning) => warning.includes('LBAAS_GEARMAN_SERVERS'))).toBe(true)
  })

  it('agent show of an unknown agent is not_found (exit 5)', async () => {
    expect(await rejectionOf(showAgent(ctx, 'nobody'))).toMatchObject({code: 'not_found', exit: 5})
  })
})

describe('sync on a controller (planAgentSync)', () => {
  const runPlan = (options: Parameters<typeof planAgentSync>[1] = {}) => runAgentSync(ctx, options)

  it('knows no agents: plans nothing and asks no one', async () => {
    expect(await planAgentSync(ctx)).toEqual([])
  })

  it('redeploys a pool missing on its agent or running another configuration; then nothing to do', async () => {
    const a = network.add('lb-a')
    const pool = await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    a.hosted.clear()
    const first = await runPlan()
    expect(first.actions).toEqual([{kind: 'deploy', target: `pool web (${pool.id})`, reason: 'not deployed on agent lb-a'}])
    expect(first.failures).toEqual([])
    expect(a.hosted.has(pool.id)).toBe(true)
    expect((await runPlan()).actions).toEqual([])
    ctx.store.write(() => ctx.store.db.prepare("UPDATE agent_deployed_configs SET config_hash = 'other'").run())
    expect((await runPlan()).actions.map((action) => action.reason)).toEqual(['configuration on agent lb-a differs from the state file'])
  })

  it('a VIP deleted while its agent was down: pending undeploy, performed by sync when it answers', async () => {
    const a = network.add('lb-a')
    const pool = await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    a.alive = false
    expect(await rejectionOf(deleteVip(ctx, 'v'))).toMatchObject({code: 'agent_unreachable', exit: 1})
    expect(pendingUndeploys(ctx.store.db, 'lb-a')).toEqual([pool.id])
    expect(showPool(ctx, 'web').status_description).toContain('run `lbaas sync` to update agent lb-a (when it answers)')
    a.alive = true
    const result = await runPlan()
    expect(result.failures).toEqual([])
    expect(a.hosted.has(pool.id)).toBe(false)
    expect(pendingUndeploys(ctx.store.db, 'lb-a')).toEqual([])
    expect(showPool(ctx, 'web').status).toBe('ACTIVE')
  })

  it('a silent agent: its pools become ERROR with the reason, PENDING_* does not survive, the action fails', async () => {
    const a = network.add('lb-a')
    await poolOnAgent('lb-a')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    a.alive = false
    ctx.store.write(() => ctx.store.db.prepare("UPDATE pools SET status = 'PENDING_UPDATE'").run())
    const result = await runPlan()
    expect(result.actions.map((action) => action.kind)).toEqual(['problem'])
    expect(result.failures).toHaveLength(1)
    const pool = showPool(ctx, 'web')
    expect(pool.status).toBe('ERROR')
    expect(pool.status_description).toMatch(/agent lb-a does not answer DISCOVER.*not dead yet/)
  })

  it('a dead agent: its pools move to live agents (at most --max-moves), and leave it when it returns', async () => {
    const a = network.add('lb-a')
    const b = network.add('lb-b')
    await listAgents(ctx)
    const pools = [await poolOnAgent('lb-a', 'p1'), await poolOnAgent('lb-a', 'p2')]
    for (const name of ['p1', 'p2']) await createVip(ctx, name, {name: `${name}-v`, protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    a.alive = false
    const later = new Date(Date.now() + 120_000)
    const first = await runPlan({now: later, maxMoves: 1})
    expect(first.actions.map((action) => action.kind)).toEqual(['move', 'problem'])
    expect(first.failures).toHaveLength(1)
    expect(listAllPools(ctx).map((pool) => pool.agent).sort()).toEqual(['lb-a', 'lb-b'])
    const second = await runPlan({now: later, maxMoves: 1})
    expect(second.failures).toEqual([])
    expect(listAllPools(ctx).map((pool) => [pool.agent, pool.status])).toEqual([
      ['lb-b', 'ACTIVE'],
      ['lb-b', 'ACTIVE'],
    ])
    expect(pools.every((pool) => b.hosted.has(pool.id))).toBe(true)
    expect(pendingUndeploys(ctx.store.db, 'lb-a').sort()).toEqual(pools.map((pool) => pool.id).sort())
    a.alive = true
    expect((await runPlan()).failures).toEqual([])
    expect(a.hosted.size).toBe(0)
    expect(pendingUndeploys(ctx.store.db, 'lb-a')).toEqual([])
  })

  it('partition guard: more than half of the known agents dead → nothing moves, reported as a failure', async () => {
    const a = network.add('lb-a')
    const b = network.add('lb-b')
    network.add('lb-c')
    await listAgents(ctx)
    await poolOnAgent('lb-a')
    a.alive = false
    b.alive = false
    const result = await runPlan({now: new Date(Date.now() + 120_000)})
    expect(result.actions.map((action) => action.kind)).toEqual(['problem', 'problem'])
    expect(result.actions[0]!.reason).toMatch(/2 of 3 known agents look dead/)
    expect(result.failures).toHaveLength(2)
    expect(showPool(ctx, 'web').agent).toBe('lb-a')
  })

  it('pools of this state file an agent hosts though they are placed elsewhere are removed; unknown pools stay', async () => {
    const a = network.add('lb-a')
    network.add('lb-b')
    const pool = await poolOnAgent('lb-b')
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
    await listAgents(ctx)
    a.hosted.add(pool.id)
    a.hosted.add('11111111-2222-4333-8444-555555555555')
    const result = await runPlan()
    expect(result.actions.find((action) => action.target === 'agent lb-a')?.kind).toBe('undeploy')
    expect([...a.hosted]).toEqual(['11111111-2222-4333-8444-555555555555'])
  })
})
