/**
 * Issue 6, part 4: a pool's HAProxy (master and workers) is killed with SIGKILL while a
 * bounded load runs against its VIP. The VIP goes dark, `lbaas sync` plans and performs
 * the restart, and the load is served again; a second sync plans nothing. The outage is
 * measured (printed as `fault-figures`, collected in BENCHMARKS.md), never asserted.
 */
import {setTimeout as sleep} from 'node:timers/promises'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {runningMaster} from '../../../src/host/haproxy-process.js'
import {poolPaths} from '../../../src/host/names.js'
import {waitUntilDead} from '../../../src/host/proc.js'
import type {SyncResult} from '../../../src/service/sync.js'
import {send, startLoad, tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'
import {expectConverged} from './host-state.js'
import {outageProbe, reportFigures} from './outage.js'

const world = trafficLab('hakill')
let lab: LabInfo
let poolId = ''
const vip = () => `${lab.base}.2`

beforeAll(async () => {
  lab = await world.lab(2)
  poolId = (await world.pool('killed', 'HTTP', 'ROUND_ROBIN', lab)).id
  for (const n of [1, 2]) await world.member(poolId, lab.backend(n).address)
  await world.vip(poolId, 'killed-vip', 'HTTP', 80, lab, vip())
})

afterAll(async () => {
  await world.cleanup()
})

describe('HAProxy killed under load', () => {
  it('lbaas sync brings it back; the outage is measured', async () => {
    const load = startLoad({host: vip(), port: 80, keepAlive: 2, close: 2, maxRequests: 200_000, maxMs: 90_000, pauseMs: 2})
    const probe = outageProbe(() => send(vip(), 80, {timeoutMs: 1_000}).then((reply) => reply.status === 200))
    try {
      await sleep(1_000)
      const master = runningMaster(poolPaths(world.runDir, poolId))!
      const proc = await world.proc(poolId)
      const pids = [master, ...proc.workers.map((worker) => worker.pid)]
      const killedAt = performance.now()
      for (const pid of pids) process.kill(pid, 'SIGKILL')
      for (const pid of pids) expect(await waitUntilDead(pid, 5_000)).toBe(true)
      await waitFor('the VIP to stop answering', async () => (probe.failuresSince(killedAt) > 0 ? true : undefined), 10_000, 20)

      const syncStarted = performance.now()
      const synced = await world.cli.json<SyncResult>(['sync', '--json'])
      const syncEnded = performance.now()
      expect(synced.actions).toEqual([expect.objectContaining({kind: 'deploy', target: `pool killed (${poolId})`})])
      expect(synced.actions[0].reason).toContain('HAProxy not running')
      const back = await waitFor('the VIP to answer again', async () => probe.firstSuccessAfter(syncStarted), 10_000, 20)

      await sleep(500)
      const result = await load.stop()
      expect(result.requests).toBeGreaterThan(0)
      expect((await tally(vip(), 80, 20)).ok).toBe(20)
      await expectConverged(world, lab, {pools: [poolId]})

      reportFigures('HAProxy killed, lbaas sync (CLI host)', {
        'kill → VIP stops answering (ms)': probe.firstFailureAfter(killedAt)! - killedAt,
        'lbaas sync duration (ms)': syncEnded - syncStarted,
        'sync started → VIP answers (ms)': back - syncStarted,
        'kill → VIP answers, sync run at once (ms)': back - killedAt,
        'load requests': result.requests,
        'load requests failed': result.errors.length,
      })
    } finally {
      await load.stop()
      probe.stop()
    }
  })
})
