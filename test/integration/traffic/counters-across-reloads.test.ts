/**
 * SPEC §1 "pool stats": counters are cumulative across reloads. Traffic held on one
 * keep-alive connection across a reload (served by the old worker after it) is counted
 * once: `pool stats` ends with exactly the bytes this test sent and received and one
 * connection; sampled across several reloads it never goes backwards.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {PoolStats} from '../../../src/domain/types.js'
import {hold, type HeldConnection} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('counters')
let lab: LabInfo
let poolId = ''
const vip = () => `${lab.base}.2`
const PORT = 9100

function stats(): Promise<PoolStats> {
  return world.cli.json<PoolStats>(['pool', 'stats', poolId, '--json'])
}

/** One HTTP request on the held connection (the pool is TCP: HAProxy passes bytes through). */
async function request(connection: HeldConnection, path: string): Promise<{sent: number; received: number}> {
  const text = `GET ${path} HTTP/1.1\r\nHost: counters\r\nConnection: keep-alive\r\n\r\n`
  const before = connection.received().length
  connection.socket.write(text)
  const response = await waitFor(
    `the response to ${path}`,
    async () => {
      const got = connection.received().slice(before)
      const head = got.indexOf('\r\n\r\n')
      if (head < 0) return undefined
      const length = Number(/content-length:\s*(\d+)/i.exec(got.slice(0, head))?.[1] ?? Number.NaN)
      return got.length >= head + 4 + length ? got : undefined
    },
    10_000,
    20,
  )
  return {sent: Buffer.byteLength(text), received: Buffer.byteLength(response)}
}

function notBackwards(earlier: PoolStats, later: PoolStats): void {
  for (const field of ['bytes_in', 'bytes_out', 'total_connections'] as const) expect(later[field], field).toBeGreaterThanOrEqual(earlier[field])
}

beforeAll(async () => {
  lab = await world.lab(3)
  poolId = (await world.pool('held', 'TCP', 'ROUND_ROBIN', lab)).id
  await world.member(poolId, lab.backend(1).address)
  await world.vip(poolId, 'held-vip', 'TCP', PORT, lab, vip())
})

afterAll(async () => {
  await world.cleanup()
})

describe('counters across reloads', () => {
  it('a keep-alive connection held across a reload is counted once', async () => {
    const start = await stats()
    const connection = await hold(vip(), PORT)
    let sent = 0
    let received = 0
    const add = (bytes: {sent: number; received: number}) => ((sent += bytes.sent), (received += bytes.received))
    add(await request(connection, '/before-reload'))
    const oldWorkers = (await world.proc(poolId)).workers.map((worker) => worker.pid)

    // A new member: a new configuration, so a reload; the held connection stays on the old worker.
    await world.member(poolId, lab.backend(2).address)
    expect((await world.proc(poolId)).old_workers.map((worker) => worker.pid)).toEqual(oldWorkers)
    for (const path of ['/after-1', '/after-2', '/after-3']) add(await request(connection, path))
    const during = await stats()
    notBackwards(start, during)

    connection.close()
    await waitFor('the old worker to exit', async () => ((await world.proc(poolId)).old_workers.length === 0 ? true : undefined), 20_000)
    const final = await waitFor(
      'the old worker final counters',
      async () => {
        const now = await stats()
        return now.bytes_in - start.bytes_in >= sent ? now : undefined
      },
      10_000,
    )
    expect(final.bytes_in - start.bytes_in).toBe(sent)
    expect(final.bytes_out - start.bytes_out).toBe(received)
    expect(final.total_connections - start.total_connections).toBe(1)
    notBackwards(during, final)
  })

  it('pool stats never goes backwards, sampled across several reloads', async () => {
    let previous = await stats()
    const sample = async () => {
      const now = await stats()
      notBackwards(previous, now)
      previous = now
    }
    for (let round = 0; round < 2; round++) {
      const connection = await hold(vip(), PORT)
      try {
        await request(connection, `/round-${round}`)
        await sample()
        // Backend 3 in, then out, then in: a reload each time, with the connection on the old worker.
        const members = await world.cli.json<{id: string; address: string}[]>(['member', 'list', '--pool', poolId, '--json'])
        const third = members.find((entry) => entry.address === lab.backend(3).address)
        if (third) await world.cli.json(['member', 'delete', third.id, '--yes', '--json'])
        else await world.member(poolId, lab.backend(3).address)
        await sample()
        await request(connection, `/round-${round}-after`)
        await sample()
      } finally {
        connection.close()
      }
    }
    await sample()
  })
})
