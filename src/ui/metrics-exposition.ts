/**
 * Prometheus text exposition (SPEC §10) of one metrics reading, built with prom-client on
 * a fresh Registry per call: every scrape is a complete, self-consistent picture and no
 * series of a deleted pool lingers. Imported lazily by the metrics commands only.
 */
import {createRequire} from 'node:module'
import type * as PromClient from 'prom-client'

import {PROVISIONING_STATUSES} from '../domain/types.js'
import type {MetricsReading} from '../service/metrics.js'

const POOL_OPERATING_STATUSES = ['ONLINE', 'DEGRADED', 'OFFLINE', 'NO_MONITOR', 'ERROR'] as const
const POOL_LABELS = ['pool', 'pool_id', 'vip'] as const
const MEMBER_LABELS = ['pool', 'pool_id', 'vip', 'member', 'address'] as const

// The three classes used, from their own files: prom-client's index also loads the default
// process metrics, histograms, summaries, the push gateway and the cluster aggregator,
// about 10 MB of the long-running `metrics serve` (docs/observability.md).
const require = createRequire(import.meta.url)
const Registry = require('prom-client/lib/registry') as typeof PromClient.Registry
const Counter = require('prom-client/lib/counter') as typeof PromClient.Counter
const Gauge = require('prom-client/lib/gauge') as typeof PromClient.Gauge

export const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE

export function exposition(reading: MetricsReading, now = Date.now()): Promise<string> {
  const registers = [new Registry()]
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Gauge<L>({name, help, labelNames, registers})
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) => new Counter<L>({name, help, labelNames, registers})

  const poolUp = gauge('lbaas_pool_up', "1 when the pool's HAProxy answered this scrape, 0 when it could not be read (counters are then the last stored totals)", POOL_LABELS)
  const bytesIn = counter('lbaas_pool_in_bytes_total', 'Bytes received from clients, cumulative across HAProxy reloads and restarts (as lbaas pool stats)', POOL_LABELS)
  const bytesOut = counter('lbaas_pool_out_bytes_total', 'Bytes sent to clients, cumulative across HAProxy reloads and restarts (as lbaas pool stats)', POOL_LABELS)
  const connections = counter('lbaas_pool_connections_total', 'Connections handled by the pool, cumulative across HAProxy reloads and restarts (as lbaas pool stats)', POOL_LABELS)
  const current = gauge('lbaas_pool_current_connections', 'Connections open now', POOL_LABELS)
  const status = gauge('lbaas_pool_status', 'Provisioning status of the pool: 1 for the current one', [...POOL_LABELS, 'status'])
  const operating = gauge('lbaas_pool_operating_status', 'Operating status of the pool from live health: 1 for the current one', [...POOL_LABELS, 'status'])
  const memberUp = gauge('lbaas_member_up', 'HAProxy reports the member up (1) or not (0)', MEMBER_LABELS)
  const weight = gauge('lbaas_member_weight', "The member's weight (0 receives no new traffic)", MEMBER_LABELS)
  const failedChecks = gauge('lbaas_member_failed_checks', "Failed health checks of the member as HAProxy counts them (restarts at 0 when HAProxy restarts)", MEMBER_LABELS)
  const sessions = gauge('lbaas_member_current_sessions', 'Sessions open to the member now', MEMBER_LABELS)
  const certificate = gauge('lbaas_certificate_expiry_seconds', 'Seconds until the certificate expires (negative once expired)', ['certificate', 'certificate_id'])
  const pools = gauge('lbaas_pools', 'Deployed local pools in this scrape', [])
  const duration = gauge('lbaas_scrape_duration_seconds', 'How long reading every pool took', [])

  for (const pool of reading.pools) {
    const labels = {pool: pool.name, pool_id: pool.id, vip: pool.vip}
    poolUp.set(labels, pool.up ? 1 : 0)
    bytesIn.inc(labels, pool.bytes_in)
    bytesOut.inc(labels, pool.bytes_out)
    connections.inc(labels, pool.total_connections)
    current.set(labels, pool.active_connections)
    for (const value of PROVISIONING_STATUSES) status.set({...labels, status: value}, value === pool.status ? 1 : 0)
    for (const value of POOL_OPERATING_STATUSES) operating.set({...labels, status: value}, value === pool.operating_status ? 1 : 0)
    for (const member of pool.members) {
      const memberLabels = {...labels, member: member.id, address: member.address}
      memberUp.set(memberLabels, member.up ? 1 : 0)
      weight.set(memberLabels, member.weight)
      failedChecks.set(memberLabels, member.failed_checks)
      sessions.set(memberLabels, member.current_sessions)
    }
  }
  for (const cert of reading.certificates) {
    certificate.set({certificate: cert.name, certificate_id: cert.id}, Math.round((cert.not_after_ms - now) / 1000))
  }
  pools.set(reading.pools.length)
  duration.set(reading.duration_ms / 1000)
  return registers[0].metrics()
}
