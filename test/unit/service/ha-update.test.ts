import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {AgentExecutor} from '../../../src/agent/executor.js'
import type {NativeRequest} from '../../../src/agent/protocol.js'
import type {AgentTransport} from '../../../src/agent/transport.js'
import type {Notifier} from '../../../src/service/context.js'
import {haExecutorFor} from '../../../src/service/ha.js'
import {assignRoles} from '../../../src/service/ha-update.js'
import {createMember} from '../../../src/service/members.js'
import {createPool, showPool, updatePool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {createVip} from '../../../src/service/vips.js'
import {listAgents} from '../../../src/service/agents.js'
import {planAgentSync} from '../../../src/service/sync-agents.js'
import {pendingUndeploys} from '../../../src/store/agents.js'
import {getHaPool} from '../../../src/store/ha.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'
import {FakeNetwork, respond, runAgentSync, type FakeAgent} from '../../helpers/fake-agents.js'
import {rejectionOf} from '../../helpers/errors.js'

let network: FakeNetwork
let warnings: string[]
let ctx: ReturnType<typeof testContext>

beforeEach(() => {
  network = new FakeNetwork()
  warnings = []
  const local = new RecordingExecutor()
  const base = testContext(local)
  const notify: Notifier = {warn: (message) => warnings.push(message), info: () => undefined, step: (_title, work) => work()}
  ctx = Object.assign(base, {
    notify,
    agentTransport: network as AgentTransport,
    executorFor: (pool: {id: string; agent: string}) =>
      haExecutorFor(base.store, network, pool.id) ?? (pool.agent === 'local' ? local : new AgentExecutor(pool.agent, network, base.store)),
  })
})
afterEach(() => ctx.cleanup())

/** What each agent was asked, in order: `DEPLOY a`, `DEPLOY plain`, `UNDEPLOY`. */
function asked(agent: FakeAgent): string[] {
  return agent.received
    .filter((message) => message.lbaas_action === 'DEPLOY' || message.lbaas_action === 'UNDEPLOY')
    .map((message) => (message.lbaas_action === 'DEPLOY' ? `DEPLOY ${(message as {ha?: {role: string}}).ha?.role ?? 'plain'}` : 'UNDEPLOY'))
}

async function servedPoolOn(agent: string) {
  await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
  const pool = await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN', agent})
  await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: 8000})
  await createVip(ctx, 'web', {name: 'web-vip', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
  for (const fake of network.agents.values()) fake.received.length = 0
  return pool
}

describe('assignRoles', () => {
  it('keeps the role of an agent that stays; a new agent takes the free role', () => {
    const current = {pool_id: 'p', subnet_id: 's', virtual_router_id: 1, peers: [{role: 'a' as const, agent: 'h1', address: 'x'}, {role: 'b' as const, agent: 'h2', address: 'y'}]}
    expect(assignRoles(current, ['h3', 'h2'])).toEqual([{role: 'a', agent: 'h3'}, {role: 'b', agent: 'h2'}])
    expect(assignRoles(current, ['h2', 'h1'])).toEqual([{role: 'a', agent: 'h1'}, {role: 'b', agent: 'h2'}])
    expect(assignRoles(undefined, ['h2', 'h1'])).toEqual([{role: 'a', agent: 'h2'}, {role: 'b', agent: 'h1'}])
  })
})

describe('pool update --ha active-standby --agents A,B', () => {
  it('a plain pool on another agent: both peers deployed, then the old agent undeployed', async () => {
    const old = network.add('h0')
    const [h1, h2] = [network.add('h1'), network.add('h2')]
    const pool = await servedPoolOn('h0')
    const updated = await updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2'})
    expect(updated).toMatchObject({status: 'ACTIVE', agent: 'h1', ha: 'active-standby', virtual_router_id: 1})
    expect(asked(h1)).toEqual(['DEPLOY a'])
    expect(asked(h2)).toEqual(['DEPLOY b'])
    expect(asked(old)).toEqual(['UNDEPLOY'])
    expect(ctx.store.read(() => getHaPool(ctx.store.db, pool.id))!.peers.map((peer) => peer.agent)).toEqual(['h1', 'h2'])
  })

  it('a plain pool on one of the new agents: that agent is undeployed first (never two namespaces with the VIP), then becomes a peer', async () => {
    const [h1, h2] = [network.add('h1'), network.add('h2')]
    await servedPoolOn('h1')
    await updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h2,h1'})
    expect(asked(h1)).toEqual(['UNDEPLOY', 'DEPLOY b'])
    expect(asked(h2)).toEqual(['DEPLOY a'])
  })

  it('changing one peer: the staying peer keeps its role and address, the new one takes the other, the old one is undeployed', async () => {
    const [h1, h2, h3] = [network.add('h1'), network.add('h2'), network.add('h3')]
    await servedPoolOn('h1')
    const before = await updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2'})
    for (const fake of [h1, h2, h3]) fake.received.length = 0
    const after = await updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h3,h2'})
    expect((after as unknown as {peers: unknown}).peers).toEqual([
      {role: 'a', agent: 'h3', address: (before as unknown as {peers: {address: string}[]}).peers[0].address},
      {role: 'b', agent: 'h2', address: (before as unknown as {peers: {address: string}[]}).peers[1].address},
    ])
    expect(asked(h3)).toEqual(['DEPLOY a'])
    expect(asked(h2)).toEqual(['DEPLOY b'])
    expect(asked(h1)).toEqual(['UNDEPLOY'])
  })

  it('the same two agents again changes nothing and asks no one to deploy', async () => {
    const [h1, h2] = [network.add('h1'), network.add('h2')]
    await servedPoolOn('h1')
    await updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2'})
    for (const fake of [h1, h2]) fake.received.length = 0
    await updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h2,h1'})
    expect([...asked(h1), ...asked(h2)]).toEqual([])
  })

  it('when neither peer deploys: the pool stays as it was, nothing stays on the destinations, the old agent serves again', async () => {
    const [h0, h1, h2] = [network.add('h0'), network.add('h1'), network.add('h2')]
    const pool = await servedPoolOn('h0')
    const refuse = (message: NativeRequest) =>
      message.lbaas_action === 'DEPLOY' ? {lbaas_response: 'FAIL', error: {code: 'config_rejected', message: 'HAProxy rejected it', exit: 3}} : respond(h1, message)
    h1.handler = refuse
    h2.handler = (message) => (message.lbaas_action === 'DEPLOY' ? refuse(message) : respond(h2, message))
    const error = await rejectionOf(updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2'}))
    expect(error).toMatchObject({exit: 3})
    expect(showPool(ctx, 'web')).toMatchObject({agent: 'h0', status: 'ERROR'})
    expect((showPool(ctx, 'web') as unknown as {ha?: string}).ha).toBeUndefined()
    expect(ctx.store.read(() => getHaPool(ctx.store.db, pool.id))).toBeUndefined()
    expect(asked(h1)).toEqual(['DEPLOY a', 'UNDEPLOY'])
    expect(asked(h2)).toEqual(['DEPLOY b', 'UNDEPLOY'])
    expect(asked(h0)).toEqual([])
  })

  it('a failure after an in-place undeploy redeploys the old placement; a silent destination gets a pending undeploy', async () => {
    const [h1, h2] = [network.add('h1'), network.add('h2')]
    const pool = await servedPoolOn('h1')
    // h1 refuses the HA deploy only (it still takes the plain one back).
    h1.handler = (message) =>
      message.lbaas_action === 'DEPLOY' && (message as {ha?: unknown}).ha
        ? {lbaas_response: 'FAIL', error: {code: 'config_rejected', message: 'no', exit: 3}}
        : respond(h1, message)
    // h2 answers DISCOVER when the change starts, then goes silent.
    const original = network.send.bind(network)
    network.send = async (name, message) => {
      if (name === 'h2' && message.lbaas_action !== 'DISCOVER') h2.alive = false
      return original(name, message)
    }
    await rejectionOf(updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2'}))
    expect(asked(h1)).toEqual(['UNDEPLOY', 'DEPLOY a', 'UNDEPLOY', 'DEPLOY plain'])
    expect(pendingUndeploys(ctx.store.db, 'h2')).toEqual([pool.id])
    expect(showPool(ctx, 'web')).toMatchObject({agent: 'h1', status: 'ACTIVE'})
  })

  it('refuses (exit 2, nothing changed): a VIP on another subnet, other changes at once, --agent on an HA pool', async () => {
    network.add('h1')
    network.add('h2')
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    await createSubnet(ctx, {name: 'other', cidr: '198.18.1.0/24'})
    await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN', agent: 'h1'})
    await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: 80, subnet: 'other'})
    expect(await rejectionOf(updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2'}))).toMatchObject({exit: 2})
    expect(await rejectionOf(updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2', lb_method: 'SOURCE_IP'}))).toMatchObject({exit: 2})
    expect(await rejectionOf(updatePool(ctx, 'web', {ha: 'none'}))).toMatchObject({exit: 2})
    expect(showPool(ctx, 'web')).toMatchObject({agent: 'h1', lb_method: 'ROUND_ROBIN'})
    await createPool(ctx, {name: 'ha', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN', ha: 'active-standby', agents: 'h1,h2'})
    expect(await rejectionOf(updatePool(ctx, 'ha', {agent: 'h1'}))).toMatchObject({exit: 2})
  })
})

describe('pool update --ha none', () => {
  it("back to peer a's agent: it is undeployed as a peer first, then deployed plain; peer b's agent is undeployed", async () => {
    const [h1, h2] = [network.add('h1'), network.add('h2')]
    const pool = await servedPoolOn('h1')
    await updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2'})
    for (const fake of [h1, h2]) fake.received.length = 0
    const updated = await updatePool(ctx, 'web', {ha: 'none'})
    expect(updated).toMatchObject({agent: 'h1', status: 'ACTIVE'})
    expect((updated as unknown as {ha?: string}).ha).toBeUndefined()
    expect(asked(h1)).toEqual(['UNDEPLOY', 'DEPLOY plain'])
    expect(asked(h2)).toEqual(['UNDEPLOY'])
    expect(ctx.store.read(() => getHaPool(ctx.store.db, pool.id))).toBeUndefined()
  })

  it('--agent names the single agent; a dead old peer is owed a pending undeploy', async () => {
    const [h1, h2, h3] = [network.add('h1'), network.add('h2'), network.add('h3')]
    const pool = await servedPoolOn('h1')
    await updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2'})
    for (const fake of [h1, h2, h3]) fake.received.length = 0
    h2.alive = false
    await updatePool(ctx, 'web', {ha: 'none', agent: 'h3'})
    expect(asked(h3)).toEqual(['DEPLOY plain'])
    expect(asked(h1)).toEqual(['UNDEPLOY'])
    expect(pendingUndeploys(ctx.store.db, 'h2')).toEqual([pool.id])
    expect(showPool(ctx, 'web')).toMatchObject({agent: 'h3', status: 'ACTIVE'})
  })
})

describe('sync on a controller: no stranded HA pool', () => {
  async function runPlan(options: Parameters<typeof planAgentSync>[1] = {}) {
    const {actions, failures} = await runAgentSync(ctx, options)
    return {actions: actions.map(({kind, reason}) => ({kind, reason})), failures}
  }

  it("a dead peer's agent: the peer gets a new live agent (not the other peer's), and the old one is undeployed when it returns", async () => {
    const [h1, h2, h3] = [network.add('h1'), network.add('h2'), network.add('h3')]
    await listAgents(ctx)
    const pool = await servedPoolOn('h1')
    await updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2'})
    h2.alive = false
    const later = new Date(Date.now() + 120_000)
    const silent = await runPlan({now: new Date(Date.now() + 30_000), dryRun: true})
    expect(silent.actions.filter((action) => action.kind === 'move')).toEqual([])
    const rescued = await runPlan({now: later})
    expect(rescued.actions).toContainEqual({kind: 'move', reason: expect.stringContaining("peer b's agent h2 is dead")})
    expect(rescued.failures).toEqual([])
    expect(ctx.store.read(() => getHaPool(ctx.store.db, pool.id))!.peers.map((peer) => peer.agent)).toEqual(['h1', 'h3'])
    expect(h3.hosted.has(pool.id)).toBe(true)
    expect(pendingUndeploys(ctx.store.db, 'h2')).toEqual([pool.id])
    h2.alive = true
    expect((await runPlan()).failures).toEqual([])
    expect(h2.hosted.has(pool.id)).toBe(false)
    expect(pendingUndeploys(ctx.store.db, 'h2')).toEqual([])
    expect(h1.hosted.has(pool.id)).toBe(true)
  })

  it('no live agent but the other peer\'s: reported (exit 1), the pool stays served by its live peer', async () => {
    const [, h2] = [network.add('h1'), network.add('h2')]
    await listAgents(ctx)
    await servedPoolOn('h1')
    await updatePool(ctx, 'web', {ha: 'active-standby', agents: 'h1,h2'})
    h2.alive = false
    const run = await runPlan({now: new Date(Date.now() + 120_000)})
    expect(run.failures).toEqual([expect.stringContaining("peer b's agent h2 is dead")])
    expect(showPool(ctx, 'web').status).not.toBe('ERROR')
  })
})
