import {describe, expect, it} from 'vitest'
import {changedNothing} from '../../../src/domain/audit-scope.js'

import {changesState, sinceTime} from '../../../src/service/audit.js'

describe('sinceTime', () => {
  const now = new Date('2026-06-01T12:00:00.000Z')
  it('takes ages and ISO times', () => {
    expect(sinceTime('30m', now)).toBe('2026-06-01T11:30:00.000Z')
    expect(sinceTime('7d', now)).toBe('2026-05-25T12:00:00.000Z')
    expect(sinceTime('2026-01-31', now)).toBe('2026-01-31T00:00:00.000Z')
    expect(sinceTime('2026-01-31T10:00:00+02:00', now)).toBe('2026-01-31T08:00:00.000Z')
  })
  it.each(['yesterday', '5x', '2026-13-45', ''])('refuses %j', (text) => {
    expect(() => sinceTime(text, now)).toThrow(expect.objectContaining({code: 'invalid_since'}))
  })
})

describe('changesState', () => {
  it('is true for the verbs that change state, not for reads or a dry run', () => {
    for (const id of ['pool:create', 'member:update', 'vip:delete', 'monitor:associate', 'sync', 'lab:up', 'apply', 'cert:update']) expect(changesState(id, [])).toBe(true)
    for (const id of ['pool:list', 'pool:show', 'pool:stats', 'status', 'events', 'metrics', 'vip:logs', 'plan', 'doctor']) expect(changesState(id, [])).toBe(false)
    expect(changesState('sync', ['--dry-run'])).toBe(false)
  })
})

describe('changedNothing', () => {
  it('is true only for a successful apply with no changes or a sync with nothing to do', () => {
    expect(changedNothing({changed: false, actions: [], errors: []})).toBe(true)
    expect(changedNothing({dry_run: false, actions: [], failures: []})).toBe(true)
    expect(changedNothing({changed: true, actions: [{op: 'create'}], errors: []})).toBe(false)
    expect(changedNothing({dry_run: false, actions: [{kind: 'deploy'}], failures: []})).toBe(false)
    expect(changedNothing({id: 'x', name: 'web'})).toBe(false)
    expect(changedNothing(undefined)).toBe(false)
  })
})
