import {describe, expect, it} from 'vitest'

import type {MemberTraffic, PoolTrafficSample} from '../../../src/service/pool-traffic.js'
import {humanBytes, renderFrame, requestRates} from '../../../src/ui/pool-watch.js'

function member(id: string, overrides: Partial<MemberTraffic> = {}): MemberTraffic {
  return {
    id,
    address: '198.18.0.11',
    protocol_port: 8000,
    weight: 1,
    admin_state_up: true,
    status: 'ACTIVE',
    operating_status: 'ONLINE',
    health: 'L7OK',
    active_connections: 0,
    total_connections: 0,
    bytes_in: 0,
    bytes_out: 0,
    ...overrides,
  }
}

function sample(takenAt: number, members: MemberTraffic[], live = true): PoolTrafficSample {
  return {
    pool: {id: 'p', name: 'web', protocol: 'HTTP', lb_method: 'ROUND_ROBIN', operating_status: 'ONLINE'},
    vip: {address: '198.18.0.2', protocol_port: 80},
    live,
    taken_at: takenAt,
    members,
  }
}

const a = 'aaaaaaaa-0000-4000-8000-000000000001'
const b = 'bbbbbbbb-0000-4000-8000-000000000002'

describe('requestRates', () => {
  it('is unknown for the first reading, then the count difference per second', () => {
    const first = sample(1000, [member(a, {total_connections: 10}), member(b, {total_connections: 4})])
    const second = sample(3000, [member(a, {total_connections: 30}), member(b, {total_connections: 4})])
    expect([...requestRates(undefined, first).values()]).toEqual([undefined, undefined])
    expect(requestRates(first, second)).toEqual(new Map([[a, 10], [b, 0]]))
  })

  it('counts from zero after a reload reset the counters, and knows nothing while HAProxy is silent', () => {
    const before = sample(0, [member(a, {total_connections: 500})])
    expect(requestRates(before, sample(1000, [member(a, {total_connections: 3})])).get(a)).toBe(0)
    expect(requestRates(before, sample(1000, [member(a)], false)).get(a)).toBeUndefined()
  })
})

describe('renderFrame', () => {
  it('shows the pool, one row per member with status, check, sessions, bytes and requests/s', async () => {
    const previous = sample(0, [member(a, {total_connections: 0}), member(b, {address: '198.18.0.12'})])
    const current = sample(2000, [
      member(a, {total_connections: 9, active_connections: 2, bytes_in: 2048, bytes_out: 10}),
      member(b, {address: '198.18.0.12', operating_status: 'OFFLINE', health: 'L7STS', admin_state_up: false}),
    ])
    const frame = await renderFrame(previous, current, {intervalSeconds: 2, color: false, now: new Date(2026, 0, 1, 12, 34, 56)})
    const lines = frame.split('\n')
    expect(lines[0]).toBe('pool web (HTTP ROUND_ROBIN)  ONLINE  VIP 198.18.0.2:80   every 2 s, Ctrl-C to stop   12:34:56')
    expect(frame).toMatch(/│ aaaaaaaa │ 198\.18\.0\.11:8000 │ 1\s+│ ONLINE\s+│ L7OK\s+│ 2\s+│ 2\.0 KiB\s+│ 10 B\s+│ 4\.5\s+│/)
    expect(frame).toMatch(/│ bbbbbbbb │ 198\.18\.0\.12:8000 │ 1 \(admin down\) │ OFFLINE │ L7STS │ 0\s+│ 0 B\s+│ 0 B\s+│ 0\.0\s+│/)
  })

  it('says when there are no members, and when HAProxy does not answer', async () => {
    const options = {intervalSeconds: 1, color: false, now: new Date()}
    expect(await renderFrame(undefined, sample(0, []), options)).toContain('no members yet; add one with `lbaas member create web`')
    expect(await renderFrame(undefined, sample(0, [member(a)], false), options)).toContain('HAProxy is not answering')
  })
})

describe('humanBytes', () => {
  it('uses binary units', () => {
    expect([0, 1023, 1024, 1536 * 1024, 5 * 1024 ** 3].map(humanBytes)).toEqual(['0 B', '1023 B', '1.0 KiB', '1.5 MiB', '5.0 GiB'])
  })
})
