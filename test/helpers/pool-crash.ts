/**
 * A pool's HAProxy dying as a crash or a reboot leaves it, for integration tests. Only
 * processes proven to be that pool's HAProxy (its identity record, then the workers its
 * master lists that are still its children: SPEC §4.7) are signalled, never a PID read from
 * a pid file: one killed earlier may name a recycled PID, another test's process.
 */
import {masterIdentity, provenHaproxy} from '../../src/host/haproxy-process.js'
import type {PoolPaths} from '../../src/host/names.js'
import {deleteNamespace, namespaceExists} from '../../src/host/netns.js'
import {terminate} from '../../src/host/proc.js'

/** SIGKILLs the pool's proven HAProxy (master and workers); resolves once they are dead, with their PIDs. */
export async function killPoolHaproxy(paths: PoolPaths): Promise<number[]> {
  const processes = await provenHaproxy(paths)
  if (processes.length === 0) {
    const {record, verdict} = masterIdentity(paths)
    throw new Error(`no running HAProxy is recorded in ${paths.dir} (record: ${JSON.stringify(record)}, verdict: ${JSON.stringify(verdict)})`)
  }
  for (const {pid, startTime} of processes) await terminate(pid, {signal: 'SIGKILL', startTime, graceMs: 5_000})
  return processes.map((process) => process.pid)
}

/** What a reboot leaves of a pool: its HAProxy gone (identity record kept), its namespace gone. */
export async function rebootPool(paths: PoolPaths, namespace: string): Promise<void> {
  await killPoolHaproxy(paths)
  if (namespaceExists(namespace)) await deleteNamespace(namespace)
}
