/**
 * One reading of a running HAProxy's counters and servers (`show stat`), for `pool stats`
 * and `lbaas metrics`. Light on purpose: it loads neither the executor nor anything that
 * runs programs, so `metrics serve` reads every pool without carrying the deploy code.
 */
import type {LiveStats} from '../executor/port.js'
import {showStat} from '../haproxy/runtime.js'
import {checkRecorded} from './identity.js'
import {poolPaths} from './names.js'

/** Counters of one backend of the process `id` in `runDir`, and its servers; null when not running or not readable. */
export async function readLiveStats(runDir: string, id: string, backendName: string): Promise<LiveStats | null> {
  const paths = poolPaths(runDir, id)
  const {record, verdict} = checkRecorded(paths.identity)
  if (!record || verdict.state !== 'running') return null
  let stats
  try {
    stats = await showStat(paths.statsSocket, {timeoutMs: 2_000})
  } catch {
    return null
  }
  const backend = stats.backends.find((candidate) => candidate.name === backendName)
  return {
    counters: backend ?? {bytes_in: 0, bytes_out: 0, active_connections: 0, total_connections: 0},
    members: stats.servers
      .filter((server) => server.backend === backendName)
      .map((server) => ({
        id: server.name,
        haproxy_status: server.status,
        health: server.check_status,
        failed_checks: server.failed_checks,
        traffic: {
          bytes_in: server.bytes_in,
          bytes_out: server.bytes_out,
          active_connections: server.active_connections,
          total_connections: server.total_connections,
        },
      })),
  }
}
