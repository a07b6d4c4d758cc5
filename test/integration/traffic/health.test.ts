/**
 * Issue 3: health monitors against real lab backends, seen through traffic and through
 * `member list`, `status` and `pool stats` (SPEC §4.6): an HTTP monitor with expected codes,
 * health that survives a reload (server-state file), a TCP monitor and a stopped member, an
 * HTTPS monitor (HTTP over TLS) against TLS backends.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Member, Monitor, PoolStats} from '../../../src/domain/types.js'
import type {PoolStatusTree} from '../../../src/service/status.js'
import {backendsSeen, tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('health')
let lab: LabInfo
let poolId = ''
let members: Member[] = []
let monitor: Monitor
let vipAddress = ''

async function listMembers(pool: string): Promise<Member[]> {
  return world.cli.json<Member[]>(['member', 'list', '--pool', pool, '--json'])
}

/** Polls `member list` until the member shows `status` (bounded). */
async function waitForMember(pool: string, memberId: string, status: 'ACTIVE' | 'INACTIVE'): Promise<Member> {
  try {
    return await waitFor(`member ${memberId} to become ${status}`, async () => {
      const member = (await listMembers(pool)).find((candidate) => candidate.id === memberId)
      return member?.status === status ? member : undefined
    })
  } catch (error) {
    throw new Error(`${(error as Error).message}\n  ${await world.explain(pool)}`)
  }
}

async function statusTree(pool: string): Promise<PoolStatusTree> {
  const [tree] = await world.cli.json<PoolStatusTree[]>(['status', pool, '--json'])
  return tree
}

beforeAll(async () => {
  lab = await world.lab(3)
  poolId = (await world.pool('web', 'HTTP', 'ROUND_ROBIN', lab)).id
  for (const n of [1, 2, 3]) members.push(await world.member(poolId, lab.backend(n).address))
  monitor = await world.monitor([
    '--type', 'HTTP', '--delay', '1', '--timeout', '1', '--max-retries', '2', '--url-path', '/healthz', '--expected-codes', '200-204',
  ])
  await world.cli.json(['monitor', 'associate', monitor.id, poolId, '--json'])
  vipAddress = `${lab.base}.2`
  await world.vip(poolId, 'web-vip', 'HTTP', 80, lab, vipAddress)
})

afterAll(async () => {
  await world.cleanup()
})

describe('an HTTP monitor with expected codes', () => {
  it('brings every healthy member up, and the pool reports ONLINE', async () => {
    for (const member of members) {
      expect(await waitForMember(poolId, member.id, 'ACTIVE')).toMatchObject({operating_status: 'ONLINE'})
    }
    const tree = await statusTree(poolId)
    expect(tree.pool).toMatchObject({status: 'ACTIVE', operating_status: 'ONLINE'})
    expect(tree.members.map((member) => member.operating_status)).toEqual(['ONLINE', 'ONLINE', 'ONLINE'])
    expect(tree.monitors).toEqual([{id: monitor.id, type: 'HTTP', status: 'ACTIVE', drives_haproxy: true}])
  })

  it('takes a member out when its check answers 500: no traffic, INACTIVE/OFFLINE, pool DEGRADED', async () => {
    await world.cli.json(['lab', 'fail', lab.backend(2).name, '--json'])
    const failed = await waitForMember(poolId, members[1].id, 'INACTIVE')
    expect(failed.operating_status).toBe('OFFLINE')

    const result = await tally(vipAddress, 80, 30)
    expect(result.errors).toEqual([])
    expect(result.ok).toBe(30)
    expect(result.backends[lab.backend(2).name] ?? 0).toBe(0)
    expect(backendsSeen(result).sort()).toEqual([lab.backend(1).name, lab.backend(3).name].sort())

    const tree = await statusTree(poolId)
    expect(tree.pool.operating_status).toBe('DEGRADED')
    expect(tree.members.map((member) => [member.status, member.operating_status])).toEqual([
      ['ACTIVE', 'ONLINE'],
      ['INACTIVE', 'OFFLINE'],
      ['ACTIVE', 'ONLINE'],
    ])
    const stats = await world.cli.json<PoolStats>(['pool', 'stats', poolId, '--json'])
    const stat = stats.members.find((member) => member.id === members[1].id)
    expect(stat?.status).toBe('INACTIVE')
    expect(stat?.health).toMatch(/^L7STS/)
    expect(stat?.failed_checks).toBeGreaterThanOrEqual(1)
  })

  it('keeps a DOWN member DOWN across an unrelated reload (server-state file): no traffic to it right after', async () => {
    const before = await world.proc(poolId)
    await world.cli.json(['vip', 'update', 'web-vip', '--connection-limit', '5000', '--json'])
    const after = await world.proc(poolId)
    expect(after.master.reloads).toBe(before.master.reloads + 1)
    expect(after.workers.map((worker) => worker.pid)).not.toEqual(before.workers.map((worker) => worker.pid))
    // The new worker starts from the saved state, not from "UP until checks say otherwise".
    const server = (await world.stat(poolId)).servers.find((candidate) => candidate.name === members[1].id)
    expect(server?.status).toMatch(/^DOWN/)

    const result = await tally(vipAddress, 80, 30)
    expect(result.errors).toEqual([])
    expect(result.ok).toBe(30)
    expect(result.backends[lab.backend(2).name] ?? 0).toBe(0)
    const [, failed] = await listMembers(poolId)
    expect(failed).toMatchObject({status: 'INACTIVE', operating_status: 'OFFLINE'})
  })

  it('follows the expected codes: 500 counts as healthy once the monitor expects it', async () => {
    await world.cli.json(['monitor', 'update', monitor.id, '--expected-codes', '200,500', '--json'])
    expect(world.config(poolId)).toContain('http-check expect rstatus ^(200|500)$')
    await waitForMember(poolId, members[1].id, 'ACTIVE')
    const result = await tally(vipAddress, 80, 30)
    expect(result.ok).toBe(30)
    expect(result.backends[lab.backend(2).name]).toBeGreaterThanOrEqual(5)

    await world.cli.json(['monitor', 'update', monitor.id, '--expected-codes', '200-204', '--json'])
    await waitForMember(poolId, members[1].id, 'INACTIVE')
  })

  it('brings the member back when it recovers', async () => {
    await world.cli.json(['lab', 'heal', lab.backend(2).name, '--json'])
    const recovered = await waitForMember(poolId, members[1].id, 'ACTIVE')
    expect(recovered.operating_status).toBe('ONLINE')
    const result = await tally(vipAddress, 80, 30)
    expect(result.ok).toBe(30)
    expect(backendsSeen(result)).toHaveLength(3)
    expect((await statusTree(poolId)).pool.operating_status).toBe('ONLINE')
  })
})

describe('a TCP monitor', () => {
  it('takes out a member whose host stopped, and brings it back when it starts', async () => {
    const pool = await world.pool('tcpmon', 'HTTP', 'ROUND_ROBIN', lab)
    const first = await world.member(pool.id, lab.backend(1).address)
    const third = await world.member(pool.id, lab.backend(3).address)
    const tcp = await world.monitor(['--type', 'TCP', '--delay', '1', '--timeout', '1', '--max-retries', '1'])
    await world.cli.json(['monitor', 'associate', tcp.id, pool.id, '--json'])
    await world.vip(pool.id, 'tcpmon-vip', 'HTTP', 80, lab, `${lab.base}.3`)
    await waitForMember(pool.id, first.id, 'ACTIVE')
    await waitForMember(pool.id, third.id, 'ACTIVE')

    await world.cli.json(['lab', 'stop', lab.backend(3).name, '--json'])
    expect(await waitForMember(pool.id, third.id, 'INACTIVE')).toMatchObject({operating_status: 'OFFLINE'})
    const down = await tally(`${lab.base}.3`, 80, 20)
    expect(down.errors, down.errors.length > 0 ? await world.explain(pool.id) : undefined).toEqual([])
    expect(down.backends).toEqual({[lab.backend(1).name]: 20})
    expect((await statusTree(pool.id)).pool.operating_status).toBe('DEGRADED')

    await world.cli.json(['lab', 'start', lab.backend(3).name, '--json'])
    expect(await waitForMember(pool.id, third.id, 'ACTIVE')).toMatchObject({operating_status: 'ONLINE'})
    const up = await tally(`${lab.base}.3`, 80, 20)
    expect(up.ok).toBe(20)
    expect(backendsSeen(up)).toHaveLength(2)
  })
})

describe('an HTTPS monitor against TLS backends', () => {
  it('checks HTTP over TLS: healthy members come up, a member answering 500 goes down', async () => {
    const tlsLab = await world.lab(2, {tls: true})
    const pool = await world.pool('tls', 'HTTPS', 'ROUND_ROBIN', tlsLab)
    const tlsMembers = [await world.member(pool.id, tlsLab.backend(1).address), await world.member(pool.id, tlsLab.backend(2).address)]
    const https = await world.monitor([
      '--type', 'HTTPS', '--delay', '1', '--timeout', '1', '--max-retries', '1', '--url-path', '/healthz', '--expected-codes', '200',
    ])
    await world.cli.json(['monitor', 'associate', https.id, pool.id, '--json'])
    const address = `${tlsLab.base}.2`
    await world.vip(pool.id, 'tls-vip', 'HTTPS', 443, tlsLab, address)
    for (const member of tlsMembers) await waitForMember(pool.id, member.id, 'ACTIVE')

    // TLS pass-through: the client's TLS session ends at the backend.
    const both = await tally(address, 443, 20, {tls: true})
    expect(both.errors, both.errors.length > 0 ? await world.explain(pool.id) : undefined).toEqual([])
    expect(both.ok).toBe(20)
    expect(backendsSeen(both).sort()).toEqual([tlsLab.backend(1).name, tlsLab.backend(2).name].sort())

    // The handshake still succeeds; only an HTTP check over TLS sees the 500.
    await world.cli.json(['lab', 'fail', tlsLab.backend(1).name, '--json'])
    expect(await waitForMember(pool.id, tlsMembers[0].id, 'INACTIVE')).toMatchObject({operating_status: 'OFFLINE'})
    const one = await tally(address, 443, 20, {tls: true})
    expect(one.errors).toEqual([])
    expect(one.backends).toEqual({[tlsLab.backend(2).name]: 20})

    await world.cli.json(['lab', 'heal', tlsLab.backend(1).name, '--json'])
    await waitForMember(pool.id, tlsMembers[0].id, 'ACTIVE')
  })
})
