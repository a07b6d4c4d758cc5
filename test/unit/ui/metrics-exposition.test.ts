import {execFileSync} from 'node:child_process'
import {describe, expect, it} from 'vitest'

import {monotonicCounters, type MetricsReading} from '../../../src/service/metrics.js'
import {exposition} from '../../../src/ui/metrics-exposition.js'
import {exposedCounters, writeTextfile} from '../../../src/ui/metrics-textfile.js'
import {tempDir} from '../../helpers/tmp.js'

const reading: MetricsReading = {
  duration_ms: 12,
  certificates: [{id: 'c1', name: 'www', not_after_ms: Date.parse('2026-01-11T00:00:00Z')}],
  pools: [
    {
      id: 'p1', name: 'web "prod"', vip: 'web-vip', protocol: 'HTTP', up: true, status: 'ACTIVE', operating_status: 'ONLINE',
      bytes_in: 1_000, bytes_out: 2_000_000_000_000, total_connections: 42, active_connections: 3,
      members: [{id: 'm1', address: '198.18.0.11', protocol_port: 8000, up: true, weight: 5, admin_state_up: true, operating_status: 'ONLINE', failed_checks: 2, current_sessions: 1}],
    },
    {
      id: 'p2', name: 'down', vip: 'down-vip', protocol: 'TCP', up: false, status: 'ERROR', operating_status: 'OFFLINE',
      bytes_in: 7, bytes_out: 8, total_connections: 9, active_connections: 0, members: [],
    },
  ],
}

describe('metrics exposition', () => {
  it('prints every family with the labels of SPEC §10, escaped', async () => {
    const text = await exposition(reading, Date.parse('2026-01-01T00:00:00Z'))
    const pool = 'pool="web \\"prod\\"",pool_id="p1",vip="web-vip"'
    expect(text).toContain(`lbaas_pool_up{${pool}} 1`)
    expect(text).toContain('lbaas_pool_up{pool="down",pool_id="p2",vip="down-vip"} 0')
    expect(text).toContain(`lbaas_pool_in_bytes_total{${pool}} 1000`)
    expect(text).toContain(`lbaas_pool_out_bytes_total{${pool}} 2000000000000`)
    expect(text).toContain(`lbaas_pool_connections_total{${pool}} 42`)
    expect(text).toContain(`lbaas_pool_current_connections{${pool}} 3`)
    expect(text).toContain(`lbaas_pool_status{${pool},status="ACTIVE"} 1`)
    expect(text).toContain(`lbaas_pool_status{${pool},status="ERROR"} 0`)
    expect(text).toContain('lbaas_pool_operating_status{pool="down",pool_id="p2",vip="down-vip",status="OFFLINE"} 1')
    const member = `${pool},member="m1",address="198.18.0.11"`
    expect(text).toContain(`lbaas_member_up{${member}} 1`)
    expect(text).toContain(`lbaas_member_weight{${member}} 5`)
    expect(text).toContain(`lbaas_member_failed_checks{${member}} 2`)
    expect(text).toContain(`lbaas_member_current_sessions{${member}} 1`)
    expect(text).toContain('lbaas_certificate_expiry_seconds{certificate="www",certificate_id="c1"} 864000')
    expect(text).toContain('lbaas_pools 2')
    expect(text).toMatch(/^# TYPE lbaas_pool_connections_total counter$/m)
  })

  it('is accepted by promtool check metrics', async () => {
    const text = await exposition(reading)
    expect(execFileSync('promtool', ['check', 'metrics'], {input: text, encoding: 'utf8'})).toBe('')
  })
})

describe('metrics textfile', () => {
  it('reads back the counters it exposed, so the next write holds them (pool names with quotes too)', async () => {
    const dir = tempDir()
    try {
      expect(exposedCounters(dir.path)).toEqual(new Map())
      writeTextfile(dir.path, await exposition(reading))
      expect(exposedCounters(dir.path)).toEqual(
        new Map([
          ['p1', {bytes_in: 1_000, bytes_out: 2_000_000_000_000, total_connections: 42}],
          ['p2', {bytes_in: 7, bytes_out: 8, total_connections: 9}],
        ]),
      )
      const lower = {...reading, pools: reading.pools.map((pool) => ({...pool, bytes_in: 1, total_connections: 1}))}
      const held = monotonicCounters(exposedCounters(dir.path))(lower)
      expect(held.pools.map((pool) => [pool.bytes_in, pool.total_connections])).toEqual([[1_000, 42], [7, 9]])
    } finally {
      dir.cleanup()
    }
  })
})
