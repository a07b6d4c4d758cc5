import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {openStore} from '../../../src/store/db.js'
import {addToCounterBase, recordCounters, storedCounters} from '../../../src/store/stats.js'
import {tempDir} from '../../helpers/tmp.js'

const cleanups: (() => void)[] = []
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()))

describe('addToCounterBase (an old worker final counters)', () => {
  it('adds to the totals whatever readings came meanwhile, and never makes them go backwards', () => {
    const dir = tempDir()
    const store = openStore(join(dir.path, 'state.db'))
    cleanups.push(() => (store.close(), dir.cleanup()))
    store.db.pragma('foreign_keys = OFF') // the counter arithmetic alone, without a pool row
    const poolId = '00000000-0000-4000-8000-000000000001'
    const raw = (bytes: number, connections: number) => ({bytes_in: bytes, bytes_out: bytes * 2, total_connections: connections, active_connections: 0})
    store.write(() => recordCounters(store.db, poolId, raw(100, 1)))
    store.write(() => recordCounters(store.db, poolId, raw(0, 0))) // the reload: the new worker starts at 0
    store.write(() => recordCounters(store.db, poolId, raw(10, 1)))
    store.write(() => addToCounterBase(store.db, poolId, raw(50, 0)))
    expect(storedCounters(store.db, poolId)).toEqual({bytes_in: 160, bytes_out: 320, total_connections: 2, active_connections: 0})
    store.write(() => recordCounters(store.db, poolId, raw(20, 2)))
    expect(storedCounters(store.db, poolId)).toMatchObject({bytes_in: 170, total_connections: 3})
  })

  it('does nothing for a pool without counters (deleted meanwhile)', () => {
    const dir = tempDir()
    const store = openStore(join(dir.path, 'state.db'))
    cleanups.push(() => (store.close(), dir.cleanup()))
    store.write(() => addToCounterBase(store.db, '00000000-0000-4000-8000-000000000002', {bytes_in: 5, bytes_out: 5, total_connections: 1, active_connections: 0}))
    expect(store.db.prepare('SELECT COUNT(*) AS n FROM pool_stats').get()).toEqual({n: 0})
  })
})
