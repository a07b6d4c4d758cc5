/**
 * `lbaas metrics` reads without the pool lock and writes nothing (SPEC §10,
 * docs/observability.md). A simulated HAProxy stands behind the executor: its workers count
 * traffic, and the state file's counter ledger changes exactly as `pool stats`, a reload
 * (snapshot, then the fold when the new worker runs) and the counter keeper change it. Any
 * of those may happen while a scrape reads the pool (between its ledger reads and the
 * stats socket's answer). A scrape never counts anything twice (never above what the
 * workers served), never shows less than the totals already recorded when it started, and
 * the serve process's figures never go backwards.
 */
import {readFileSync} from 'node:fs'
import fc from 'fast-check'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {PoolGraph} from '../../../src/domain/types.js'
import type {LiveStats, RawCounters} from '../../../src/executor/port.js'
import {readMetrics, monotonicCounters, type MetricsReading} from '../../../src/service/metrics.js'
import {createMember} from '../../../src/service/members.js'
import {createPool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {createVip} from '../../../src/service/vips.js'
import {addToCounterBase, recordCounters, storedCounters} from '../../../src/store/stats.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'
import {fuzzOptions} from '../../helpers/hostile.js'

type Counts = Pick<RawCounters, 'bytes_in' | 'bytes_out' | 'total_connections'>
const zero = (): RawCounters => ({bytes_in: 0, bytes_out: 0, total_connections: 0, active_connections: 0})

type Event = {kind: 'traffic'; bytes: number} | {kind: 'pool-stats'} | {kind: 'snapshot'} | {kind: 'swap'} | {kind: 'fold'} | {kind: 'keeper'}

/**
 * One pool's HAProxy as lbaas sees it. `worker` is the one the stats socket answers for.
 * A reload, under the pool lock (no `pool stats` until it ends), records its snapshot, then
 * swaps in a new worker counting from 0, then writes the fold; the old worker's traffic
 * after the snapshot reaches the ledger when its keeper runs.
 */
class SimulatedHaproxy extends RecordingExecutor {
  worker = zero()
  served = 0
  private snapshot: RawCounters | undefined
  private reload: 'none' | 'snapshotted' | 'swapped' = 'none'
  private keepers: RawCounters[] = []
  /** Events that happen while the next liveStats call is in flight, before and after it reads the worker. */
  during: {before: Event[]; after: Event[]} = {before: [], after: []}
  ctx!: ReturnType<typeof testContext>
  poolId = ''

  reset(): void {
    this.worker = zero()
    this.served = 0
    this.snapshot = undefined
    this.reload = 'none'
    this.keepers = []
    this.during = {before: [], after: []}
  }

  run(event: Event): void {
    const {db} = this.ctx.store
    switch (event.kind) {
      case 'traffic':
        this.worker = {...this.worker, bytes_in: this.worker.bytes_in + event.bytes, bytes_out: this.worker.bytes_out + 2 * event.bytes, total_connections: this.worker.total_connections + 1}
        this.served += event.bytes
        break
      case 'pool-stats':
        if (this.reload === 'none') this.ctx.store.write(() => recordCounters(db, this.poolId, this.worker))
        break
      case 'snapshot':
        if (this.reload !== 'none') break
        this.reload = 'snapshotted'
        this.snapshot = {...this.worker}
        this.ctx.store.write(() => recordCounters(db, this.poolId, this.snapshot!))
        break
      case 'swap': {
        if (this.reload !== 'snapshotted') break
        this.reload = 'swapped'
        const snapshot = this.snapshot!
        const delta = {...zero(), bytes_in: this.worker.bytes_in - snapshot.bytes_in, bytes_out: this.worker.bytes_out - snapshot.bytes_out, total_connections: this.worker.total_connections - snapshot.total_connections}
        // As the real keeper: nothing served after the snapshot, nothing written.
        if (delta.bytes_in + delta.bytes_out + delta.total_connections > 0) this.keepers.push(delta)
        this.worker = zero()
        break
      }
      case 'fold':
        if (this.reload !== 'swapped') break
        this.reload = 'none'
        this.ctx.store.write(() => recordCounters(db, this.poolId, zero()))
        break
      case 'keeper': {
        const delta = this.keepers.shift()
        if (delta) this.ctx.store.write(() => addToCounterBase(db, this.poolId, delta))
        break
      }
    }
  }

  override async liveStats(graph: PoolGraph): Promise<LiveStats | null> {
    await super.liveStats(graph)
    const {before, after} = this.during
    this.during = {before: [], after: []}
    for (const event of before) this.run(event)
    const answer = {...this.worker}
    for (const event of after) this.run(event)
    return {counters: answer, members: []}
  }
}

let executor: SimulatedHaproxy
let ctx: ReturnType<typeof testContext>
let poolId: string

beforeEach(async () => {
  executor = new SimulatedHaproxy()
  ctx = testContext(executor)
  executor.ctx = ctx
  await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
  poolId = (await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})).id
  executor.poolId = poolId
  await createMember(ctx, 'web', {address: '198.18.0.11', protocol_port: 8000})
  await createVip(ctx, 'web', {name: 'web-vip', protocol: 'HTTP', protocol_port: 80, subnet: 'lab'})
  executor.reset()
})
afterEach(() => ctx.cleanup())

const countsOf = (reading: MetricsReading): Counts => {
  const pool = reading.pools.find((candidate) => candidate.id === poolId)!
  return {bytes_in: pool.bytes_in, bytes_out: pool.bytes_out, total_connections: pool.total_connections}
}

const event = fc.oneof(
  fc.record({kind: fc.constant('traffic' as const), bytes: fc.integer({min: 1, max: 1000})}),
  fc.constantFrom<Event>({kind: 'pool-stats'}, {kind: 'snapshot'}, {kind: 'swap'}, {kind: 'fold'}, {kind: 'keeper'}),
)
const step = fc.oneof(
  event.map((only) => ({scrape: false as const, events: [only]})),
  fc.record({scrape: fc.constant(true as const), before: fc.array(event, {maxLength: 4}), after: fc.array(event, {maxLength: 4})}),
)

describe('readMetrics without the pool lock', () => {
  it('takes no pool lock and writes nothing to the state file', async () => {
    executor.run({kind: 'traffic', bytes: 100})
    const files = () => [readFileSync(ctx.statePath), readFileSync(`${ctx.statePath}-wal`)]
    const before = files()
    let lockTaken = false
    const withPoolLock = ctx.withPoolLock
    ctx.withPoolLock = (id, work) => ((lockTaken = true), withPoolLock(id, work))
    const reading = await readMetrics(ctx)
    ctx.withPoolLock = withPoolLock
    expect(countsOf(reading)).toEqual({bytes_in: 100, bytes_out: 200, total_connections: 1})
    expect(reading.pools[0]).toMatchObject({up: true, operating_status: 'NO_MONITOR'})
    expect(lockTaken).toBe(false)
    expect(files()).toEqual(before)
    expect(ctx.store.read(() => storedCounters(ctx.store.db, poolId))).toEqual(zero())
  })

  it('a reload folding the counters while HAProxy answers is seen, and the pool read again: not counted twice', async () => {
    executor.run({kind: 'traffic', bytes: 100})
    executor.run({kind: 'pool-stats'})
    executor.run({kind: 'traffic', bytes: 50})
    // The stats socket answers the old worker (150), then the reload folds 150 into the base.
    executor.during = {before: [], after: [{kind: 'snapshot'}, {kind: 'swap'}, {kind: 'fold'}]}
    expect(countsOf(await readMetrics(ctx))).toEqual({bytes_in: 150, bytes_out: 300, total_connections: 2})
    // The new worker answers before the fold is written: its count is not added to the old one's.
    executor.run({kind: 'traffic', bytes: 10})
    executor.during = {before: [{kind: 'snapshot'}, {kind: 'traffic', bytes: 5}, {kind: 'swap'}], after: [{kind: 'fold'}]}
    const reading = countsOf(await readMetrics(ctx))
    expect(reading.bytes_in).toBeLessThanOrEqual(executor.served)
    expect(reading.bytes_in).toBe(160) // 150 + the worker's 10, the 5 after the snapshot wait for the keeper
    executor.run({kind: 'keeper'})
    expect(countsOf(await readMetrics(ctx)).bytes_in).toBe(165)
  })

  it('any interleaving of traffic, pool stats, reloads and keepers with scrapes: never above what was served, never below the recorded totals, and serve never goes backwards', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, {minLength: 1, maxLength: 30}), async (steps) => {
        executor.reset()
        ctx.store.write(() => ctx.store.db.prepare('DELETE FROM pool_stats WHERE pool_id = ?').run(poolId))
        const monotonic = monotonicCounters()
        let exposed: Counts = {bytes_in: 0, bytes_out: 0, total_connections: 0}
        for (const next of steps) {
          if (!next.scrape) {
            for (const only of next.events) executor.run(only)
            continue
          }
          const recorded = ctx.store.read(() => storedCounters(ctx.store.db, poolId))
          executor.during = {before: next.before, after: next.after}
          const reading = await readMetrics(ctx)
          const counts = countsOf(reading)
          expect(counts.bytes_in).toBeLessThanOrEqual(executor.served)
          expect(counts.bytes_out).toBeLessThanOrEqual(2 * executor.served)
          expect(counts.bytes_in).toBeGreaterThanOrEqual(recorded.bytes_in)
          expect(counts.total_connections).toBeGreaterThanOrEqual(recorded.total_connections)
          const shown = countsOf(monotonic(reading))
          expect(shown.bytes_in).toBeGreaterThanOrEqual(exposed.bytes_in)
          expect(shown.bytes_out).toBeGreaterThanOrEqual(exposed.bytes_out)
          expect(shown.total_connections).toBeGreaterThanOrEqual(exposed.total_connections)
          expect(shown.bytes_in).toBeLessThanOrEqual(executor.served)
          exposed = shown
        }
      }),
      fuzzOptions(150),
    )
  })
})

describe('monotonicCounters', () => {
  const reading = (id: string, bytes: number): MetricsReading => ({
    duration_ms: 1,
    certificates: [],
    pools: [{id, name: id, vip: '', protocol: 'HTTP', up: true, status: 'ACTIVE', operating_status: 'ONLINE', bytes_in: bytes, bytes_out: bytes, total_connections: bytes, active_connections: 0, members: []}],
  })

  it('holds the highest figure of each pool and forgets pools no longer read', () => {
    const monotonic = monotonicCounters()
    expect(monotonic(reading('a', 10)).pools[0].bytes_in).toBe(10)
    expect(monotonic(reading('a', 7)).pools[0]).toMatchObject({bytes_in: 10, bytes_out: 10, total_connections: 10})
    expect(monotonic(reading('a', 12)).pools[0].bytes_in).toBe(12)
    expect(monotonic(reading('b', 3)).pools[0].bytes_in).toBe(3)
    expect(monotonic(reading('a', 1)).pools[0].bytes_in).toBe(1) // a pool deleted and read again starts afresh
  })
})
