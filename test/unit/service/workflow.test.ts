import {describe, expect, it} from 'vitest'

import {ConfigRejectedError, LbaasError} from '../../../src/domain/errors.js'
import {createMember, deleteMember, listAllMembers, updateMember} from '../../../src/service/members.js'
import {
  associateMonitor,
  createMonitor,
  deleteMonitor,
  disassociateMonitor,
  updateMonitor,
} from '../../../src/service/monitors.js'
import {samplePoolTraffic} from '../../../src/service/pool-traffic.js'
import {createPool, deletePool, poolStats, showPool, updatePool} from '../../../src/service/pools.js'
import {createSubnet, deleteSubnet, showSubnet} from '../../../src/service/subnets.js'
import {createVip, deleteVip, showVip, updateVip} from '../../../src/service/vips.js'
import {getMember} from '../../../src/store/members.js'
import {type RecordingExecutor, type TestContext, useRecordingContext} from '../../helpers/context.js'
import {codeOf} from '../../helpers/errors.js'

let executor: RecordingExecutor
let ctx: TestContext
useRecordingContext((made) => ({ctx, executor} = made))


async function subnetAndPool(protocol = 'HTTP') {
  await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
  return createPool(ctx, {name: 'web', subnet: 'lab', protocol, lb_method: 'ROUND_ROBIN'})
}

async function deployedPool() {
  const pool = await subnetAndPool()
  await createVip(ctx, 'web', {name: 'web-vip', protocol: 'HTTP', protocol_port: '80', subnet: 'lab'})
  return showPool(ctx, pool.id)
}

describe('subnets', () => {
  it('defaults the gateway to the first host and owns a bridge named after the id', async () => {
    const subnet = await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    expect(subnet.gateway_ip).toBe('198.18.0.1')
    expect(subnet.managed).toBe(true)
    expect(subnet.bridge).toBe(`lbbr-${subnet.id.replaceAll('-', '').slice(0, 8)}`)
    expect(executor.methods()).toEqual(['ensureSubnet'])
  })
  it('rejects a gateway outside the network, duplicates and overlaps', async () => {
    expect(await codeOf(createSubnet(ctx, {name: 'a', cidr: '198.18.0.0/24', gateway_ip: '198.18.1.1'}))).toBe('invalid_gateway_ip')
    expect(await codeOf(createSubnet(ctx, {name: 'a', cidr: '198.18.0.0/24', gateway_ip: '198.18.0.255'}))).toBe('invalid_gateway_ip')
    await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
    expect(await codeOf(createSubnet(ctx, {name: 'lab', cidr: '198.18.1.0/24'}))).toBe('duplicate_name')
    expect(await codeOf(createSubnet(ctx, {name: 'wide', cidr: '198.18.0.0/16'}))).toBe('overlapping_cidr')
    expect(await codeOf(createSubnet(ctx, {name: 'tiny', cidr: '198.18.0.0/31'}))).toBe('invalid_cidr')
  })
  it('leaves no row when the host cannot provide the bridge', async () => {
    executor.failNext = new LbaasError('invalid_bridge', 2, 'bridge br9 does not exist')
    expect(await codeOf(createSubnet(ctx, {name: 'office', cidr: '198.18.2.0/24', bridge: 'br9'}))).toBe('invalid_bridge')
    expect(await codeOf(Promise.resolve().then(() => showSubnet(ctx, 'office')))).toBe('not_found')
  })
  it('refuses to delete a subnet in use', async () => {
    await subnetAndPool()
    expect(await codeOf(deleteSubnet(ctx, 'lab'))).toBe('in_use')
    expect(showSubnet(ctx, 'lab').name).toBe('lab')
  })
})

describe('pools', () => {
  it('are state only until they have a VIP', async () => {
    const pool = await subnetAndPool()
    expect(pool.status).toBe('ACTIVE')
    expect(pool.vip_id).toBeNull()
    await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: '8000'})
    expect(executor.methods()).toEqual(['ensureSubnet'])
  })
  it('resolve ambiguous names to an error listing the ids', async () => {
    const first = await subnetAndPool()
    const second = await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'TCP', lb_method: 'SOURCE_IP'})
    let caught: LbaasError | undefined
    try {
      showPool(ctx, 'web')
    } catch (error) {
      caught = error as LbaasError
    }
    expect(caught?.code).toBe('ambiguous_name')
    expect(caught?.message).toContain(first.id)
    expect(caught?.message).toContain(second.id)
    expect(showPool(ctx, second.id).protocol).toBe('TCP')
  })
  it('refuse an update that changes nothing', async () => {
    await subnetAndPool()
    expect(await codeOf(updatePool(ctx, 'web', {}))).toBe('invalid_update')
  })
  it('cannot be deleted under a VIP; otherwise take members and associations along', async () => {
    await deployedPool()
    expect(await codeOf(deletePool(ctx, 'web'))).toBe('in_use')
    await deleteVip(ctx, 'web-vip')
    await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: '8000'})
    const monitor = await createMonitor(ctx, {type: 'TCP', delay: 2, timeout: 1, max_retries: 2})
    await associateMonitor(ctx, monitor.id, 'web')
    await deletePool(ctx, 'web')
    expect(ctx.store.db.prepare('SELECT count(*) FROM members').pluck().get()).toBe(0)
    expect(ctx.store.db.prepare('SELECT count(*) FROM associations').pluck().get()).toBe(0)
    await deleteMonitor(ctx, monitor.id)
  })
})

describe('deployed pools', () => {
  it('a VIP deploys the pool and everything becomes ACTIVE', async () => {
    const pool = await deployedPool()
    expect(pool.status).toBe('ACTIVE')
    expect(showVip(ctx, 'web-vip').status).toBe('ACTIVE')
    expect(executor.methods()).toContain('deploy')
  })
  it('the VIP takes the first free address, skipping the gateway and members', async () => {
    await subnetAndPool()
    await createMember(ctx, 'web', {address: '198.18.0.2', protocol_port: '8000'})
    const vip = await createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: '80', subnet: 'lab'})
    expect(vip.address).toBe('198.18.0.3')
  })
  it('member weight and admin state go through the runtime API', async () => {
    await deployedPool()
    const member = await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: '8000'})
    executor.calls = []
    const updated = await updateMember(ctx, member.id, {weight: '3', admin_state_up: 'false'})
    expect(executor.methods()).toEqual(['applyRuntime'])
    expect(executor.calls[0].memberIds).toEqual([member.id])
    expect(updated).toMatchObject({weight: 3, admin_state_up: false, status: 'ACTIVE'})
  })
  it('moving a member redeploys both pools', async () => {
    await deployedPool()
    const other = await createPool(ctx, {name: 'api', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    await createVip(ctx, 'api', {name: 'api-vip', protocol: 'HTTP', protocol_port: '80', subnet: 'lab'})
    const member = await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: '8000'})
    executor.calls = []
    await updateMember(ctx, member.id, {pool: 'api'})
    expect(executor.calls.map((call) => [call.method, call.poolId])).toEqual([
      ['deploy', showPool(ctx, 'web').id],
      ['deploy', other.id],
    ])
    expect(showPool(ctx, 'api').members).toEqual([member.id])
  })
  it('a failed deploy marks the changed member ERROR and propagates', async () => {
    await deployedPool()
    executor.failNext = new ConfigRejectedError('p', '[ALERT] parsing [haproxy.cfg:12] : something wrong')
    expect(await codeOf(createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: '8000'}))).toBe('config_rejected')
    const [member] = await listAllMembers(ctx, 'web')
    expect(member.status).toBe('ERROR')
    expect(member.status_description).toContain('something wrong')
    // An object in ERROR can be updated, and a good deploy settles it.
    const fixed = await updateMember(ctx, member.id, {weight: '2'})
    expect(fixed.status).toBe('ACTIVE')
  })
  it('a member in ERROR can always be deleted, even when the host fails', async () => {
    await deployedPool()
    const member = await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: '8000'})
    executor.failNext = new LbaasError('command_failed', 1, 'ip: boom')
    expect(await codeOf(deleteMember(ctx, member.id))).toBe('command_failed')
    expect(getMember(ctx.store.db, member.id)).toBeUndefined()
    expect(showPool(ctx, 'web')).toMatchObject({status: 'ERROR'})
    expect(showPool(ctx, 'web').status_description).toContain('lbaas sync')
  })
  it('deleting a member deploys without it, then removes the row', async () => {
    await deployedPool()
    const member = await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: '8000'})
    executor.calls = []
    await deleteMember(ctx, member.id)
    const deployed = executor.calls[0].graph!
    expect(deployed.members.find((candidate) => candidate.id === member.id)?.status).toBe('PENDING_DELETE')
    expect(getMember(ctx.store.db, member.id)).toBeUndefined()
  })
})

describe('monitors', () => {
  it('keep timeout ≤ delay on create and on update, using the stored side', async () => {
    expect(await codeOf(createMonitor(ctx, {type: 'HTTP', delay: '2', timeout: '3', max_retries: '2'}))).toBe('invalid_timeout')
    const monitor = await createMonitor(ctx, {type: 'HTTP', delay: '5', timeout: '3', max_retries: '2'})
    expect(monitor).toMatchObject({http_method: 'GET', url_path: '/', expected_codes: '200', pools: []})
    expect(await codeOf(updateMonitor(ctx, monitor.id, {delay: '2'}))).toBe('invalid_timeout')
    expect((await updateMonitor(ctx, monitor.id, {delay: '3'})).delay).toBe(3)
  })
  it('associate once, disassociate what is associated, delete only when free', async () => {
    await deployedPool()
    const monitor = await createMonitor(ctx, {type: 'TCP', delay: '2', timeout: '1', max_retries: '2'})
    const associated = await associateMonitor(ctx, monitor.id, 'web')
    expect(associated.pools).toEqual([{pool_id: showPool(ctx, 'web').id, status: 'ACTIVE'}])
    expect(await codeOf(associateMonitor(ctx, monitor.id, 'web'))).toBe('already_associated')
    expect(await codeOf(deleteMonitor(ctx, monitor.id))).toBe('in_use')
    await disassociateMonitor(ctx, monitor.id, 'web')
    expect(await codeOf(disassociateMonitor(ctx, monitor.id, 'web'))).toBe('not_found')
    await deleteMonitor(ctx, monitor.id)
  })
  it('an update redeploys every deployed pool the monitor serves', async () => {
    await deployedPool()
    const monitor = await createMonitor(ctx, {type: 'HTTP', delay: '5', timeout: '3', max_retries: '2'})
    await associateMonitor(ctx, monitor.id, 'web')
    executor.calls = []
    await updateMonitor(ctx, monitor.id, {url_path: '/healthz'})
    expect(executor.methods()).toEqual(['deploy'])
    expect(executor.calls[0].graph!.monitors[0].url_path).toBe('/healthz')
  })
})

describe('VIPs', () => {
  it('check protocol, one VIP per pool, address rules', async () => {
    await subnetAndPool()
    const input = {name: 'v', protocol: 'HTTP', protocol_port: '80', subnet: 'lab'}
    expect(await codeOf(createVip(ctx, 'web', {...input, protocol: 'TCP'}))).toBe('invalid_protocol')
    expect(await codeOf(createVip(ctx, 'web', {...input, address: '198.18.1.5'}))).toBe('invalid_address')
    expect(await codeOf(createVip(ctx, 'web', {...input, address: '198.18.0.1'}))).toBe('invalid_address')
    expect(await codeOf(createVip(ctx, 'web', {...input, address: '198.18.0.0'}))).toBe('invalid_address')
    expect(await codeOf(createVip(ctx, 'web', {...input, connection_limit: '0'}))).toBe('invalid_connection_limit')
    expect(await codeOf(createVip(ctx, 'web', {...input, connection_limit: '8001'}))).toBe('invalid_connection_limit')
    await createVip(ctx, 'web', {...input, address: '198.18.0.50'})
    expect(await codeOf(createVip(ctx, 'web', {...input, name: 'w'}))).toBe('vip_exists')
    await createPool(ctx, {name: 'api', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    expect(await codeOf(createVip(ctx, 'api', {...input, name: 'w', address: '198.18.0.50'}))).toBe('address_in_use')
  })
  it('keep session persistence on an update that does not mention it; none clears it', async () => {
    await subnetAndPool()
    await createVip(ctx, 'web', {
      name: 'v',
      protocol: 'HTTP',
      protocol_port: '80',
      subnet: 'lab',
      session_persistence: 'APP_COOKIE:JSESSIONID',
    })
    expect((await updateVip(ctx, 'v', {connection_limit: '100'})).session_persistence).toEqual({
      type: 'APP_COOKIE',
      cookie_name: 'JSESSIONID',
    })
    expect((await updateVip(ctx, 'v', {session_persistence: 'none'})).session_persistence).toBeNull()
  })
  it('moving a VIP frees the old pool first', async () => {
    await deployedPool()
    const api = await createPool(ctx, {name: 'api', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    executor.calls = []
    await updateVip(ctx, 'web-vip', {pool: 'api'})
    expect(executor.calls.map((call) => [call.poolId, call.graph?.vip?.id ?? null])).toEqual([
      [showPool(ctx, 'web').id, null],
      [api.id, showVip(ctx, 'web-vip').id],
    ])
    expect(showPool(ctx, 'api').vip_id).toBe(showVip(ctx, 'web-vip').id)
    expect(showPool(ctx, 'web').vip_id).toBeNull()
  })
  it('deleting the VIP undeploys the pool and removes the row', async () => {
    await deployedPool()
    executor.calls = []
    await deleteVip(ctx, 'web-vip')
    expect(executor.calls[0].graph!.vip!.status).toBe('PENDING_DELETE')
    expect(showPool(ctx, 'web').vip_id).toBeNull()
  })
})

describe('pool stats', () => {
  it('counters are cumulative across reloads and never go backwards', async () => {
    const pool = await deployedPool()
    const member = await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: '8000'})
    const reading = (bytes: number, total: number) => ({
      counters: {bytes_in: bytes, bytes_out: bytes * 2, total_connections: total, active_connections: 1},
      members: [{id: member.id, haproxy_status: 'DOWN 1/2', health: 'L4CON', failed_checks: 3}],
    })
    executor.live = reading(1000, 10)
    expect(await poolStats(ctx, pool.id)).toMatchObject({bytes_in: 1000, bytes_out: 2000, total_connections: 10})
    executor.live = reading(1500, 15)
    expect(await poolStats(ctx, pool.id)).toMatchObject({bytes_in: 1500, total_connections: 15})
    executor.live = reading(100, 1) // HAProxy restarted: counters started again at 0
    const stats = await poolStats(ctx, pool.id)
    expect(stats).toMatchObject({bytes_in: 1600, bytes_out: 3200, total_connections: 16, active_connections: 1})
    expect(stats.members).toEqual([{id: member.id, status: 'INACTIVE', health: 'L4CON', failed_checks: 3}])
    expect(showPool(ctx, pool.id).operating_status).toBe('NO_MONITOR')
  })
  it('a --watch sample shows health and traffic from one reading of HAProxy', async () => {
    const pool = await deployedPool()
    const member = await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: '8000'})
    executor.live = {
      counters: {bytes_in: 700, bytes_out: 900, total_connections: 7, active_connections: 2},
      members: [
        {
          id: member.id,
          haproxy_status: 'UP',
          health: 'L7OK',
          failed_checks: 0,
          traffic: {bytes_in: 300, bytes_out: 400, total_connections: 3, active_connections: 1},
        },
      ],
    }
    executor.calls = []
    const sample = await samplePoolTraffic(ctx, pool.id)
    expect(executor.methods()).toEqual(['liveStats'])
    expect(sample.live).toBe(true)
    expect(sample.members).toEqual([
      expect.objectContaining({id: member.id, health: 'L7OK', active_connections: 1, total_connections: 3, bytes_in: 300, bytes_out: 400}),
    ])
  })
})
