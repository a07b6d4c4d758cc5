import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {PoolGraph} from '../../../src/domain/types.js'
import {createMember} from '../../../src/service/members.js'
import {associateMonitor, createMonitor} from '../../../src/service/monitors.js'
import {createPool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {createVip} from '../../../src/service/vips.js'
import {loadPoolGraph} from '../../../src/store/graph.js'
import {parsePoolGraph} from '../../../src/worker/native-graph.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'
import {codeOf} from '../../helpers/errors.js'

let ctx: ReturnType<typeof testContext>
let graph: PoolGraph

beforeEach(async () => {
  ctx = testContext(new RecordingExecutor())
  await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
  const pool = await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
  await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: 8000})
  await createMember(ctx, 'web', {address: '198.18.0.12', protocol_port: 8000, weight: 5})
  const monitor = await createMonitor(ctx, {type: 'HTTP', delay: 5, timeout: 2, max_retries: 3, url_path: '/healthz', expected_codes: '200-204'})
  await associateMonitor(ctx, monitor.id, 'web')
  await createVip(ctx, 'web', {name: 'web-vip', protocol: 'HTTP', protocol_port: 80, subnet: 'lab', session_persistence: 'APP_COOKIE:SID'})
  graph = loadPoolGraph(ctx.store.db, pool.id)!
})
afterEach(() => ctx.cleanup())

const wire = (value: PoolGraph) => JSON.parse(JSON.stringify(value)) as Record<string, any>

describe('parsePoolGraph: the graph a DEPLOY carries', () => {
  it('accepts what a controller sends, unchanged but for agent=local', () => {
    const parsed = parsePoolGraph(wire(graph), 8000)
    expect(parsed).toEqual({...graph, pool: {...graph.pool, agent: 'local'}, monitors: graph.monitors.map((m) => ({...m, pools: []}))})
  })

  it.each([
    ['a newline in a monitor url_path', (g: Record<string, any>) => (g.monitors[0].url_path = '/x\n    bind :1'), 'invalid_url_path'],
    ['a member address that is a host name', (g: Record<string, any>) => (g.members[0].address = 'evil.example'), 'invalid_address'],
    ['a weight above 256', (g: Record<string, any>) => (g.members[0].weight = 1000), 'invalid_weight'],
    ['a cookie name with a space', (g: Record<string, any>) => (g.vip.session_persistence = {type: 'APP_COOKIE', cookie_name: 'a b'}), 'invalid_cookie_name'],
    ['a member of another pool', (g: Record<string, any>) => (g.members[0].pool_id = '00000000-0000-4000-8000-000000000009'), 'invalid_member'],
    ['an id that is not a UUID', (g: Record<string, any>) => (g.pool.id = '../../etc'), 'invalid_pool.id'],
    ['a managed bridge that is not lbbr-<id>', (g: Record<string, any>) => (g.subnet.bridge = 'eth0'), 'invalid_bridge'],
    ['an unmanaged bridge with a reserved name', (g: Record<string, any>) => Object.assign(g.vipSubnet, {managed: false, bridge: 'lbv123'}), 'invalid_bridge'],
    ['an association with a monitor not sent', (g: Record<string, any>) => (g.monitors = []), 'invalid_association'],
    ['a connection limit above this host\'s maximum', (g: Record<string, any>) => (g.vip.connection_limit = 9000), 'invalid_connection_limit'],
    ['a VIP protocol unlike the pool\'s', (g: Record<string, any>) => (g.vip.protocol = 'TCP'), 'invalid_protocol'],
    ['an unknown status', (g: Record<string, any>) => (g.members[0].status = 'WHATEVER'), 'invalid_member.status'],
  ])('refuses %s', (_name, spoil, code) => {
    const value = wire(graph)
    spoil(value)
    expect(codeOf(() => parsePoolGraph(value, 8000))).toBe(code)
  })

  it('a graph without a VIP needs no VIP subnet', () => {
    const value = wire(graph)
    value.vip = null
    value.vipSubnet = null
    expect(parsePoolGraph(value, 8000).vip).toBeNull()
  })
})
