import {afterEach, describe, expect, it} from 'vitest'

import {openStore, type Store} from '../../../src/store/db.js'
import {insertEvent, listEvents, type NewAuditEvent} from '../../../src/store/events.js'
import {tempDir} from '../../helpers/tmp.js'

const dirs: {cleanup(): void}[] = []
afterEach(() => dirs.splice(0).forEach((dir) => dir.cleanup()))

function store(): Store {
  const dir = tempDir('lbaas-events-')
  dirs.push(dir)
  return openStore(`${dir.path}/state.db`)
}

const event = (time: string, extra: Partial<NewAuditEvent> = {}): NewAuditEvent => ({
  time,
  user: 'alice',
  source: 'cli',
  command: 'pool create',
  argv: ['--name', 'web'],
  objects: [{type: 'pool', id: 'p1', name: 'web'}],
  pool_id: 'p1',
  pool_name: 'web',
  result: 'ok',
  exit_code: 0,
  error: null,
  ...extra,
})

describe('events', () => {
  it('lists oldest first, filtered by pool id or name and by time, the newest N', () => {
    const state = store()
    const {db} = state
    insertEvent(db, event('2026-01-01T00:00:00.000Z'))
    insertEvent(db, event('2026-01-02T00:00:00.000Z', {pool_id: 'p2', pool_name: 'api'}))
    insertEvent(db, event('2026-01-03T00:00:00.000Z', {pool_id: null, pool_name: 'web', result: 'error', exit_code: 2}))
    expect(listEvents(db).map((row) => row.time.slice(0, 10))).toEqual(['2026-01-01', '2026-01-02', '2026-01-03'])
    expect(listEvents(db, {poolId: 'p1', poolName: 'web'}).map((row) => row.exit_code)).toEqual([0, 2])
    expect(listEvents(db, {since: '2026-01-02T00:00:00.000Z'})).toHaveLength(2)
    expect(listEvents(db, {limit: 1})[0]).toMatchObject({time: '2026-01-03T00:00:00.000Z', argv: ['--name', 'web'], objects: [{type: 'pool', id: 'p1', name: 'web'}]})
    state.close()
  })

  it('keeps 90 days or the row limit, whichever is less, pruning on insert', () => {
    const state = store()
    const {db} = state
    insertEvent(db, event('2026-01-01T00:00:00.000Z'))
    insertEvent(db, event('2026-03-01T00:00:00.000Z'))
    // 91 days after the first: it goes, the second stays.
    insertEvent(db, event('2026-04-02T00:00:00.000Z'))
    expect(listEvents(db).map((row) => row.time.slice(0, 10))).toEqual(['2026-03-01', '2026-04-02'])
    for (let day = 10; day < 20; day++) insertEvent(db, event(`2026-04-${day}T00:00:00.000Z`), {days: 90, rows: 5})
    expect(listEvents(db).map((row) => row.time.slice(0, 10))).toEqual(['2026-04-15', '2026-04-16', '2026-04-17', '2026-04-18', '2026-04-19'])
    state.close()
  })
})
