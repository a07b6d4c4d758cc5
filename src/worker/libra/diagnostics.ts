/**
 * DIAGNOSTICS (libra.md §2.8): a TCP connect to every job server (`gearman`) and to the
 * network targets (`network`). Libra connected to google.com:80, hard-coded, one host after
 * another with 5 s each; here the targets are the operator's (`--diagnostics-target`),
 * or the job servers themselves when none is given, and all checks run at once.
 */
import net from 'node:net'

import {formatServer, type ServerAddress} from '../../gearman/connection.js'

export const DIAGNOSTIC_TIMEOUT_MS = 5_000

export function tcpReachable(target: ServerAddress, timeoutMs = DIAGNOSTIC_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({host: target.host, port: target.port})
    const finish = (reachable: boolean) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(reachable)
    }
    const timer = setTimeout(() => finish(false), timeoutMs)
    socket.once('connect', () => finish(true))
    socket.once('error', () => finish(false))
  })
}

export interface DiagnosticsResult {
  /** Libra's shape: the host only (callers count FAILs); `port` is added. */
  gearman: {host: string; port: number; status: 'PASS' | 'FAIL'}[]
  /** PASS when at least one network target answers. */
  network: 'PASS' | 'FAIL'
  network_targets: {target: string; status: 'PASS' | 'FAIL'}[]
}

export async function runDiagnostics(
  jobServers: readonly ServerAddress[],
  targets: readonly ServerAddress[],
  reachable: (target: ServerAddress) => Promise<boolean> = tcpReachable,
): Promise<DiagnosticsResult> {
  const networkTargets = targets.length > 0 ? targets : jobServers
  const [gearman, network] = await Promise.all([
    // Not `.map(reachable)`: map's index would arrive as tcpReachable's timeout (0 ms for the first target).
    Promise.all(jobServers.map((server) => reachable(server))),
    Promise.all(networkTargets.map((target) => reachable(target))),
  ])
  const status = (ok: boolean) => (ok ? 'PASS' : 'FAIL') as 'PASS' | 'FAIL'
  return {
    gearman: jobServers.map((server, index) => ({host: server.host, port: server.port, status: status(gearman[index]!)})),
    network: status(network.some(Boolean)),
    network_targets: networkTargets.map((target, index) => ({target: formatServer(target), status: status(network[index]!)})),
  }
}
