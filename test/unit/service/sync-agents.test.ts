import {describe, expect, it} from 'vitest'

import type {HostedPool} from '../../../src/agent/protocol.js'
import type {PoolGraph} from '../../../src/domain/types.js'
import {driftOf, planRescue, type AgentSighting, type PlacedPool, type RescueInput} from '../../../src/service/sync-agents.js'

const now = new Date('2026-12-03T12:00:00.000Z')
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000).toISOString()
const live = (name: string): AgentSighting => ({name, answered: true, lastSeen: now.toISOString()})
const silentFor = (name: string, seconds: number | null): AgentSighting => ({name, answered: false, lastSeen: seconds === null ? null : ago(seconds)})
const pool = (id: string, agent: string, hasVip = true): PlacedPool => ({id, agent, hasVip})
const input = (agents: AgentSighting[], pools: PlacedPool[], extra: Partial<RescueInput> = {}): RescueInput => ({
  agents,
  pools,
  now,
  deadAfterMs: 60_000,
  maxMoves: 10,
  ...extra,
})

describe('planRescue: who is dead (SPEC §6 --dead-after)', () => {
  it('an agent that answered now is alive, whatever its history', () => {
    expect(planRescue(input([live('a')], [])).dead).toEqual([])
  })

  it('silent for less than --dead-after: silent, not dead, its pools stay', () => {
    const plan = planRescue(input([live('a'), silentFor('b', 30)], [pool('p1', 'b')]))
    expect(plan).toMatchObject({dead: [], silent: ['b'], moves: [], waiting: []})
  })

  it('silent for longer than --dead-after: dead', () => {
    expect(planRescue(input([live('a'), silentFor('b', 61)], [])).dead).toEqual(['b'])
    expect(planRescue(input([live('a'), silentFor('b', 61)], [], {deadAfterMs: 120_000})).dead).toEqual([])
  })

  it('never seen by this controller: dead', () => {
    expect(planRescue(input([live('a'), silentFor('b', null)], [])).dead).toEqual(['b'])
  })
})

describe('planRescue: which pools move where (the auto rule)', () => {
  it('moves every pool of a dead agent to the live agent hosting fewest, counting the moves already planned', () => {
    const pools = [pool('p1', 'dead'), pool('p2', 'dead'), pool('p3', 'dead'), pool('q1', 'a'), pool('q2', 'a')]
    const plan = planRescue(input([live('a'), live('b'), silentFor('dead', 600)], pools))
    expect(plan.moves).toEqual([
      {poolId: 'p1', from: 'dead', to: 'b'},
      {poolId: 'p2', from: 'dead', to: 'b'},
      {poolId: 'p3', from: 'dead', to: 'a'},
    ])
  })

  it('ties go by agent name', () => {
    const plan = planRescue(input([live('zed'), live('amy'), silentFor('dead', 600)], [pool('p1', 'dead')]))
    expect(plan.moves).toEqual([{poolId: 'p1', from: 'dead', to: 'amy'}])
  })

  it('pools with a VIP move first', () => {
    const plan = planRescue(input([live('a'), silentFor('dead', 600)], [pool('p1', 'dead', false), pool('p2', 'dead', true)], {maxMoves: 1}))
    expect(plan.moves.map((move) => move.poolId)).toEqual(['p2'])
    expect(plan.waiting).toEqual([{poolId: 'p1', agent: 'dead', why: 'max-moves'}])
  })

  it('at most --max-moves per run; the rest wait for the next run', () => {
    const pools = ['p1', 'p2', 'p3'].map((id) => pool(id, 'dead'))
    const plan = planRescue(input([live('a'), silentFor('dead', 600)], pools, {maxMoves: 2}))
    expect(plan.moves.map((move) => move.poolId)).toEqual(['p1', 'p2'])
    expect(plan.waiting).toEqual([{poolId: 'p3', agent: 'dead', why: 'max-moves'}])
    expect(planRescue(input([live('a'), silentFor('dead', 600)], pools, {maxMoves: 0})).moves).toEqual([])
  })

  it('no live agent: nothing moves, the pools wait', () => {
    const plan = planRescue(input([silentFor('b', 10), silentFor('dead', 600)], [pool('p1', 'dead')]))
    expect(plan.partition).toBeNull()
    expect(plan.moves).toEqual([])
    expect(plan.waiting).toEqual([{poolId: 'p1', agent: 'dead', why: 'no-live-agent'}])
  })

  it('pools of live and merely silent agents never move', () => {
    const plan = planRescue(input([live('a'), silentFor('b', 10), silentFor('c', 600)], [pool('p1', 'a'), pool('p2', 'b')]))
    expect(plan.moves).toEqual([])
    expect(plan.dead).toEqual(['c'])
  })
})

describe('planRescue: the partition guard', () => {
  it('more than half of the known agents dead: nothing moves, the guard says how many', () => {
    const plan = planRescue(input([live('a'), silentFor('b', 600), silentFor('c', 600)], [pool('p1', 'b'), pool('p2', 'c')]))
    expect(plan.partition).toEqual({dead: 2, known: 3})
    expect(plan.moves).toEqual([])
    expect(plan.waiting.map((entry) => [entry.poolId, entry.why])).toEqual([
      ['p1', 'partition'],
      ['p2', 'partition'],
    ])
  })

  it('exactly half dead: moves go ahead', () => {
    const plan = planRescue(input([live('a'), silentFor('b', 600)], [pool('p1', 'b')]))
    expect(plan.partition).toBeNull()
    expect(plan.moves).toEqual([{poolId: 'p1', from: 'b', to: 'a'}])
  })

  it('silent agents that are not dead yet do not count as dead', () => {
    const plan = planRescue(input([live('a'), silentFor('b', 10), silentFor('c', 600)], [pool('p1', 'c')]))
    expect(plan.partition).toBeNull()
    expect(plan.moves).toEqual([{poolId: 'p1', from: 'c', to: 'a'}])
  })
})

function graph(overrides: {vip?: 'ACTIVE' | 'PENDING_DELETE' | 'ERROR' | null; pool?: string} = {}): PoolGraph {
  const vipStatus = overrides.vip === undefined ? 'ACTIVE' : overrides.vip
  return {
    pool: {id: 'p1', name: 'web', status: overrides.pool ?? 'ACTIVE', agent: 'a'},
    vip: vipStatus === null ? null : {id: 'v1', status: vipStatus},
    members: [],
    associations: [],
    monitors: [],
  } as unknown as PoolGraph
}
const hosted = (config_hash: string | null, running = true): HostedPool => ({id: 'p1', config_hash, running})

describe('driftOf: when a pool on a live agent is redeployed', () => {
  it('nothing when the agent runs the configuration it answered after the last deploy', () => {
    expect(driftOf(graph(), 'a', hosted('h1'), {agent: 'a', config_hash: 'h1'})).toEqual([])
  })

  it('missing, stopped, or another configuration on the agent', () => {
    expect(driftOf(graph(), 'a', undefined, {agent: 'a', config_hash: 'h1'})).toEqual(['not deployed on agent a'])
    expect(driftOf(graph(), 'a', hosted(null, false), {agent: 'a', config_hash: 'h1'})).toEqual(['HAProxy not running on agent a'])
    expect(driftOf(graph(), 'a', hosted('h2'), {agent: 'a', config_hash: 'h1'})).toEqual(['configuration on agent a differs from the state file'])
    // Deployed by another agent, or never recorded: the hash says nothing about this one.
    expect(driftOf(graph(), 'a', hosted('h1'), {agent: 'b', config_hash: 'h1'})).toHaveLength(1)
    expect(driftOf(graph(), 'a', hosted('h1'), undefined)).toHaveLength(1)
  })

  it('stale PENDING_* and ERROR are settled by a deploy', () => {
    expect(driftOf(graph({pool: 'PENDING_UPDATE'}), 'a', hosted('h1'), {agent: 'a', config_hash: 'h1'})).toEqual(['pool PENDING_UPDATE'])
    expect(driftOf(graph({vip: 'ERROR'}), 'a', hosted('h1'), {agent: 'a', config_hash: 'h1'})).toEqual(['VIP ERROR'])
  })

  it('no live VIP: the agent must not host it', () => {
    expect(driftOf(graph({vip: null}), 'a', undefined, undefined)).toEqual([])
    expect(driftOf(graph({vip: null}), 'a', hosted('h1'), undefined)).toEqual(['no VIP, but agent a still hosts it'])
    expect(driftOf(graph({vip: 'PENDING_DELETE'}), 'a', undefined, undefined)).toEqual(['VIP PENDING_DELETE'])
  })
})

describe('planRescue: HA pools (SPEC §11 "a dead agent\'s HA pools get a new peer")', () => {
  const ha = (id: string, a: string, b: string, hasVip = true) => ({id, hasVip, peers: [{role: 'a' as const, agent: a}, {role: 'b' as const, agent: b}]})

  it('a peer on a dead agent moves to the live agent hosting fewest pools, never to the other peer\'s agent', () => {
    // c hosts nothing, but is the other peer's agent: d (one pool) takes the peer.
    const plan = planRescue(input([live('c'), live('d'), silentFor('x', 120)], [pool('p9', 'd')], {haPools: [ha('h1', 'x', 'c')]}))
    expect(plan.moves).toEqual([{poolId: 'h1', from: 'x', to: 'd', role: 'a'}])
  })

  it('a peer counts as a pool on its agent (the auto rule)', () => {
    const plan = planRescue(input([live('c'), live('d'), live('e'), silentFor('x', 120)], [pool('p1', 'x')], {haPools: [ha('h1', 'c', 'd')]}))
    expect(plan.moves).toEqual([{poolId: 'p1', from: 'x', to: 'e'}])
  })

  it('a live peer\'s agent only, or no live agent: the peer waits (no-live-agent)', () => {
    const plan = planRescue(input([live('c'), silentFor('x', 120)], [], {haPools: [ha('h1', 'c', 'x')]}))
    expect(plan).toMatchObject({moves: [], waiting: [{poolId: 'h1', agent: 'x', why: 'no-live-agent', role: 'b'}]})
  })

  it('both peers dead: two moves to two different agents', () => {
    const plan = planRescue(input([live('c'), live('d'), silentFor('x', 120), silentFor('y', 120)], [], {haPools: [ha('h1', 'x', 'y')]}))
    expect(plan.moves).toEqual([
      {poolId: 'h1', from: 'x', to: 'c', role: 'a'},
      {poolId: 'h1', from: 'y', to: 'd', role: 'b'},
    ])
  })

  it('each peer is one move against --max-moves; VIPs first', () => {
    const plan = planRescue(
      input([live('c'), live('d'), silentFor('x', 120)], [pool('p0', 'x', false)], {haPools: [ha('h2', 'c', 'x'), ha('h1', 'x', 'd')], maxMoves: 2}),
    )
    expect(plan.moves).toEqual([
      {poolId: 'h1', from: 'x', to: 'c', role: 'a'},
      {poolId: 'h2', from: 'x', to: 'd', role: 'b'},
    ])
    expect(plan.waiting).toEqual([{poolId: 'p0', agent: 'x', why: 'max-moves'}])
  })

  it('a silent (not yet dead) peer stays; under the partition guard nothing moves', () => {
    expect(planRescue(input([live('c'), live('d'), silentFor('x', 30)], [], {haPools: [ha('h1', 'x', 'c')]})).moves).toEqual([])
    const plan = planRescue(input([live('c'), silentFor('x', 120), silentFor('y', 120)], [], {haPools: [ha('h1', 'x', 'c')]}))
    expect(plan.partition).toEqual({dead: 2, known: 3})
    expect(plan.waiting).toEqual([{poolId: 'h1', agent: 'x', why: 'partition', role: 'a'}])
  })
})
