import {afterEach, describe, expect, it} from 'vitest'

import {recordEvent, recordJobEvent} from '../../../src/service/audit.js'
import {openStore} from '../../../src/store/db.js'
import {listEvents} from '../../../src/store/events.js'
import {tempDir} from '../../helpers/tmp.js'

const dirs: {cleanup(): void}[] = []
afterEach(() => dirs.splice(0).forEach((dir) => dir.cleanup()))

function store() {
  const dir = tempDir('lbaas-audit-')
  dirs.push(dir)
  return openStore(`${dir.path}/state.db`)
}

describe('recordJobEvent (agents)', () => {
  it('records state-changing jobs with PASS as 0 and FAIL as 1, and skips reads', () => {
    const state = store()
    const pool = '6f1c9e8a-1111-4000-8000-000000000000'
    recordJobEvent(state, {protocol: 'lbaas', action: 'DEPLOY', pool, result: 'PASS', handle: 'H:host:1'})
    recordJobEvent(state, {protocol: 'lbaas', action: 'STATS', pool, result: 'PASS', handle: 'H:host:2'})
    recordJobEvent(state, {protocol: 'libra', action: 'UPDATE', pool: 'device', result: 'FAIL', error: 'bad -----BEGIN PRIVATE KEY----- x', handle: 'H:host:3'})
    recordJobEvent(state, {protocol: 'libra', action: 'PING', result: 'PASS', handle: 'H:host:4'})
    const rows = listEvents(state.db)
    expect(rows.map((row) => [row.source, row.command, row.result, row.exit_code, row.pool_id])).toEqual([
      ['worker', 'job lbaas DEPLOY', 'ok', 0, pool],
      ['worker', 'job libra UPDATE', 'error', 1, null],
    ])
    expect(rows[0].argv).toEqual(['H:host:1'])
    expect(rows[1].error).not.toContain('PRIVATE KEY')
    state.close()
  })
})

describe('recordEvent (commands)', () => {
  it('keeps what the command returned as the object touched, and never throws', () => {
    const state = store()
    recordEvent(state, {commandId: 'member:create', argv: ['web', '--address', '198.18.0.11'], result: {id: 'm1', pool_id: 'p-gone'}, exitCode: 0})
    expect(listEvents(state.db)[0]).toMatchObject({command: 'member create', objects: [{type: 'member', id: 'm1'}], pool_id: 'p-gone', result: 'ok'})
    state.close()
    // A closed store: recording fails quietly, the command's outcome is untouched.
    expect(() => recordEvent(state, {commandId: 'pool:create', argv: [], exitCode: 2})).not.toThrow()
  })
})
