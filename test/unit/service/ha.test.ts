import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {createSubnet} from '../../../src/service/subnets.js'
import {haAgents, haOperatingStatus, planHa, withHa, type HaLive} from '../../../src/service/ha.js'
import {parseHaWire} from '../../../src/service/ha-protocol.js'
import {insertHaPool} from '../../../src/store/ha.js'
import {insertPool} from '../../../src/store/pools.js'
import {addressesInUse} from '../../../src/store/vips.js'
import {testContext} from '../../helpers/context.js'

let ctx: ReturnType<typeof testContext>

beforeEach(() => {
  ctx = testContext()
})
afterEach(() => ctx.cleanup())

function pool(id: string, subnetId: string): void {
  insertPool(ctx.store.db, {
    id, name: id.slice(0, 8), description: '', subnet_id: subnetId, protocol: 'HTTP', lb_method: 'ROUND_ROBIN',
    admin_state_up: true, status: 'ACTIVE', status_description: null, agent: 'h1',
  })
}

describe('haAgents (--ha, --agents)', () => {
  it('is undefined for a plain pool', () => {
    expect(haAgents(undefined, undefined)).toBeUndefined()
  })

  it('takes two different agents', () => {
    expect(haAgents('active-standby', 'h1, h2')).toEqual(['h1', 'h2'])
  })

  it.each([
    ['another topology', 'active-active', 'h1,h2'],
    ['--agents without --ha', undefined, 'h1,h2'],
    ['--ha without --agents', 'active-standby', undefined],
    ['one agent', 'active-standby', 'h1'],
    ['three agents', 'active-standby', 'h1,h2,h3'],
    ['the same agent twice', 'active-standby', 'h1,h1'],
    ['local', 'active-standby', 'local,h2'],
    ['auto', 'active-standby', 'h1,auto'],
  ])('refuses %s (exit 2)', (_what, ha, agents) => {
    expect(() => haAgents(ha, agents)).toThrow(expect.objectContaining({exit: 2}))
  })
})

describe('planHa', () => {
  it('takes router id 1, then 2 on the same subnet, 1 again on another; peers get free addresses that VIPs then avoid', async () => {
    const lab = await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    const other = await createSubnet(ctx, {name: 'other', cidr: '198.18.1.0/24'})
    const ids = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222', '33333333-3333-4333-8333-333333333333']
    const plans = ctx.store.write(() => {
      pool(ids[0], lab.id)
      pool(ids[1], lab.id)
      pool(ids[2], other.id)
      const first = planHa(ctx.store.db, ids[0], lab, ['h1', 'h2'])
      insertHaPool(ctx.store.db, first)
      const second = planHa(ctx.store.db, ids[1], lab, ['h2', 'h1'])
      insertHaPool(ctx.store.db, second)
      const third = planHa(ctx.store.db, ids[2], other, ['h1', 'h2'])
      return [first, second, third]
    })
    expect(plans.map((plan) => plan.virtual_router_id)).toEqual([1, 2, 1])
    expect(plans[0].peers).toEqual([
      {role: 'a', agent: 'h1', address: '198.18.0.2'},
      {role: 'b', agent: 'h2', address: '198.18.0.3'},
    ])
    expect(plans[1].peers.map((peer) => peer.address)).toEqual(['198.18.0.4', '198.18.0.5'])
    expect(addressesInUse(ctx.store.db)).toEqual(new Set(['198.18.0.2', '198.18.0.3', '198.18.0.4', '198.18.0.5']))
    const shown = withHa(ctx.store.db, {id: ids[0]}) as unknown as Record<string, unknown>
    expect(shown).toMatchObject({ha: 'active-standby', virtual_router_id: 1, peers: [{agent: 'h1', address: '198.18.0.2', role: 'a'}, {agent: 'h2', address: '198.18.0.3', role: 'b'}]})
  })
})

describe('haOperatingStatus', () => {
  const live = (states: (string | null)[]): HaLive => ({
    ha: 'active-standby',
    virtual_router_id: 1,
    peers: states.map((state, index) => ({role: index === 0 ? 'a' : 'b', agent: `h${index}`, address: `198.18.0.${index + 2}`, state})),
    master: states.includes('MASTER') ? (states.indexOf('MASTER') === 0 ? 'a' : 'b') : null,
    degraded: states.some((state) => state !== 'MASTER' && state !== 'BACKUP'),
    down: !states.includes('MASTER'),
  })

  it('keeps the stored status while one is MASTER and the other BACKUP', () => {
    expect(haOperatingStatus('ONLINE', live(['MASTER', 'BACKUP']))).toBe('ONLINE')
  })

  it.each([['FAULT'], ['UNREACHABLE'], ['STOP'], [null]])('is DEGRADED when the other peer is %s', (state) => {
    expect(haOperatingStatus('NO_MONITOR', live(['MASTER', state]))).toBe('DEGRADED')
  })

  it('is OFFLINE when no peer is MASTER, and ERROR stays ERROR', () => {
    expect(haOperatingStatus('ONLINE', live(['FAULT', 'UNREACHABLE']))).toBe('OFFLINE')
    expect(haOperatingStatus('ERROR', live(['FAULT', 'UNREACHABLE']))).toBe('ERROR')
  })
})

describe('parseHaWire (the ha part of DEPLOY v2)', () => {
  it('accepts a role, a router id and two addresses', () => {
    expect(parseHaWire({role: 'b', virtual_router_id: 7, addresses: {a: '198.18.0.2', b: '198.18.0.3'}})).toEqual({
      role: 'b', virtual_router_id: 7, addresses: {a: '198.18.0.2', b: '198.18.0.3'},
    })
    expect(parseHaWire(undefined)).toBeUndefined()
  })

  it.each([
    ['a bad role', {role: 'c', virtual_router_id: 7, addresses: {a: '198.18.0.2', b: '198.18.0.3'}}],
    ['router id 0', {role: 'a', virtual_router_id: 0, addresses: {a: '198.18.0.2', b: '198.18.0.3'}}],
    ['router id 256', {role: 'a', virtual_router_id: 256, addresses: {a: '198.18.0.2', b: '198.18.0.3'}}],
    ['an address with a newline', {role: 'a', virtual_router_id: 7, addresses: {a: '198.18.0.2\nvrrp_strict', b: '198.18.0.3'}}],
    ['equal addresses', {role: 'a', virtual_router_id: 7, addresses: {a: '198.18.0.2', b: '198.18.0.2'}}],
    ['no addresses', {role: 'a', virtual_router_id: 7}],
    ['a list', []],
  ])('refuses %s', (_what, value) => {
    expect(() => parseHaWire(value)).toThrow(expect.objectContaining({exit: 2}))
  })
})
