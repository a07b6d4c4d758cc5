/**
 * Issue 3 / SPEC §4.3 step 6: members added, removed and re-weighted through the CLI while a
 * bounded load runs against the VIP lose no request (master-worker reloads, listeners handed
 * over, `option idle-close-on-response`); weights need no reload; and `pool stats` stays
 * cumulative across reloads (HAProxy restarts its counters in every new worker).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Member, PoolStats} from '../../../src/domain/types.js'
import {backendsSeen, startLoad, tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'

const world = trafficLab('reload')
let lab: LabInfo
let poolId = ''
let vipAddress = ''
const members = new Map<number, Member>()

async function stats(): Promise<PoolStats> {
  return world.cli.json<PoolStats>(['pool', 'stats', poolId, '--json'])
}

async function add(n: number, weight = 1): Promise<void> {
  members.set(n, await world.member(poolId, lab.backend(n).address, ['--weight', String(weight)]))
}

async function remove(n: number): Promise<void> {
  await world.cli.json(['member', 'delete', members.get(n)!.id, '--yes', '--json'])
  members.delete(n)
}

async function reweight(n: number, weight: number): Promise<void> {
  await world.cli.json(['member', 'update', members.get(n)!.id, '--weight', String(weight), '--json'])
}

beforeAll(async () => {
  lab = await world.lab(4)
  poolId = (await world.pool('busy', 'HTTP', 'ROUND_ROBIN', lab)).id
  await add(1)
  await add(2)
  vipAddress = `${lab.base}.2`
  await world.vip(poolId, 'busy-vip', 'HTTP', 80, lab, vipAddress)
})

afterAll(async () => {
  await world.cleanup()
})

describe('pool stats', () => {
  it('stay cumulative across a reload, also when the new worker serves more than the old one had', async () => {
    const start = await stats()
    const before = await tally(vipAddress, 80, 10)
    expect(before.ok).toBe(10)
    // What the current worker has counted so far: the new one must outgrow it.
    const backendBefore = (await world.stat(poolId)).backends[0].total_connections
    const reloads = (await world.proc(poolId)).master.reloads
    await add(3)
    try {
      expect((await world.proc(poolId)).master.reloads).toBe(reloads + 1)
      const afterCount = backendBefore + 40
      const after = await tally(vipAddress, 80, afterCount)
      expect(after.ok).toBe(afterCount)

      const end = await stats()
      expect(end.total_connections).toBeGreaterThanOrEqual(start.total_connections)
      expect(end.bytes_out).toBeGreaterThanOrEqual(start.bytes_out)
      // Every request was one backend session; none may be lost from the totals.
      expect(end.total_connections - start.total_connections).toBeGreaterThanOrEqual(10 + afterCount)
    } finally {
      await remove(3)
    }
  })
})

describe('changing members under load', () => {
  it('loses no request across 20 adds, removes and re-weights, and reloads only for adds and removes', async () => {
    const ops: [string, () => Promise<void>][] = []
    for (let round = 0; round < 3; round++) {
      ops.push(
        ['add 3', () => add(3, 2)],
        ['weight 1 → 3', () => reweight(1, 3)],
        ['add 4', () => add(4)],
        ['remove 3', () => remove(3)],
        ['weight 2 → 0', () => reweight(2, 0)],
        ['remove 4', () => remove(4)],
        ['weight 1 → 1', () => reweight(1, 1)],
      )
    }
    ops.length = 20
    ops.push(['weight 2 → 1', () => reweight(2, 1)])
    const reloadingOps = ops.filter(([name]) => name.startsWith('add') || name.startsWith('remove')).length

    const reloadsBefore = (await world.proc(poolId)).master.reloads
    const samples = [(await stats()).total_connections]
    const load = startLoad({host: vipAddress, port: 80, keepAlive: 2, close: 2, maxRequests: 200_000, maxMs: 90_000, pauseMs: 5})
    let result
    try {
      for (const [index, [, op]] of ops.entries()) {
        await op()
        if (index % 2 === 1) samples.push((await stats()).total_connections)
      }
      samples.push((await stats()).total_connections)
    } finally {
      result = await load.stop()
    }
    const reloadsAfter = (await world.proc(poolId)).master.reloads

    expect(result.errors.slice(0, 10)).toEqual([])
    expect(result.ok).toBe(result.requests)
    expect(result.requests).toBeGreaterThan(200)
    expect(backendsSeen(result).length).toBeGreaterThanOrEqual(3)
    expect(reloadsAfter - reloadsBefore).toBe(reloadingOps)
    // Never backwards, however many workers came and went.
    for (let i = 1; i < samples.length; i++) expect(samples[i]).toBeGreaterThanOrEqual(samples[i - 1])
    expect(samples.at(-1)! - samples[0]).toBeGreaterThan(0)
    expect((await world.cli.json<Member[]>(['member', 'list', '--pool', poolId, '--json'])).map((member) => member.address)).toEqual([
      lab.backend(1).address,
      lab.backend(2).address,
    ])
  })
})
