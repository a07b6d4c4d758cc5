import {describe, expect, it} from 'vitest'

import {drivingMonitor, memberHealth, poolOperatingStatus} from '../../../src/domain/status.js'
import type {Association, Monitor} from '../../../src/domain/types.js'

describe('memberHealth (SPEC §4.6)', () => {
  it.each([
    ['UP', 'ACTIVE', 'ONLINE'],
    ['UP 1/3', 'ACTIVE', 'ONLINE'],
    ['UP (agent)', 'ACTIVE', 'ONLINE'],
    ['DOWN', 'INACTIVE', 'OFFLINE'],
    ['DOWN 1/2', 'INACTIVE', 'OFFLINE'],
    ['DOWN (agent)', 'INACTIVE', 'OFFLINE'],
    ['MAINT', 'INACTIVE', 'OFFLINE'],
    ['MAINT (via b/s)', 'INACTIVE', 'OFFLINE'],
    ['MAINT (resolution)', 'INACTIVE', 'OFFLINE'],
    ['DRAIN', 'ACTIVE', 'DRAINING'],
    ['DRAIN (agent)', 'ACTIVE', 'DRAINING'],
    ['NOLB', 'ACTIVE', 'DRAINING'],
    ['no check', 'ACTIVE', 'NO_MONITOR'],
    ['', 'ERROR', 'ERROR'],
    ['UPSIDE', 'ERROR', 'ERROR'],
    ['???', 'ERROR', 'ERROR'],
  ])('%j → %s/%s', (haproxyStatus, status, operating) => {
    expect(memberHealth(haproxyStatus)).toEqual({status, operating_status: operating})
  })
})

describe('poolOperatingStatus', () => {
  const up = {admin_state_up: true, operating_status: 'ONLINE' as const}
  const down = {admin_state_up: true, operating_status: 'OFFLINE' as const}
  const disabled = {admin_state_up: false, operating_status: 'OFFLINE' as const}
  it('rolls members up', () => {
    expect(poolOperatingStatus({serving: false, adminUp: true, monitored: true, members: [up]})).toBe('OFFLINE')
    expect(poolOperatingStatus({serving: true, adminUp: false, monitored: true, members: [up]})).toBe('OFFLINE')
    expect(poolOperatingStatus({serving: true, adminUp: true, monitored: false, members: [up]})).toBe('NO_MONITOR')
    expect(poolOperatingStatus({serving: true, adminUp: true, monitored: true, members: [up, disabled]})).toBe('ONLINE')
    expect(poolOperatingStatus({serving: true, adminUp: true, monitored: true, members: [up, down]})).toBe('DEGRADED')
    expect(poolOperatingStatus({serving: true, adminUp: true, monitored: true, members: [down]})).toBe('ERROR')
    expect(poolOperatingStatus({serving: true, adminUp: true, monitored: true, members: []})).toBe('ERROR')
  })
})

describe('drivingMonitor', () => {
  const monitor = (id: string, adminUp = true) => ({id, admin_state_up: adminUp}) as Monitor
  const association = (monitorId: string, position: number, status: Association['status'] = 'ACTIVE') =>
    ({pool_id: 'p', monitor_id: monitorId, status, status_description: null, position}) as Association
  it('is the first admin-up monitor by association time', () => {
    const monitors = [monitor('a', false), monitor('b'), monitor('c')]
    expect(drivingMonitor({monitors, associations: [association('c', 3), association('a', 1), association('b', 2)]})?.id).toBe('b')
  })
  it('skips associations being removed or in error', () => {
    const monitors = [monitor('a'), monitor('b')]
    expect(drivingMonitor({monitors, associations: [association('a', 1, 'PENDING_DELETE'), association('b', 2)]})?.id).toBe('b')
    expect(drivingMonitor({monitors, associations: [association('a', 1, 'ERROR')]})).toBeUndefined()
  })
})
