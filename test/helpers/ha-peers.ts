/**
 * Looking at an active/standby pool's two peers on this host (SPEC §11), for the HA
 * integration tests: which peer namespaces hold the VIP, whether the VIP answers, and a
 * peer's HAProxy or whole host dying. Everything is found by this pool's own names.
 */
import {haNamespaceFor, type HaPeerRole} from '../../src/host/names.js'
import {deleteNamespace, namespaceExists} from '../../src/host/netns.js'
import {findProcesses, readProcessStat, terminate} from '../../src/host/proc.js'
import {run} from '../../src/host/run.js'
import {send} from './traffic.js'

export const HA_ROLES = ['a', 'b'] as const
export const otherPeer = (role: HaPeerRole): HaPeerRole => (role === 'a' ? 'b' : 'a')

/** Which peer namespaces of the pool hold the VIP address right now. */
export async function vipHolders(poolId: string, vip: string): Promise<HaPeerRole[]> {
  const found: HaPeerRole[] = []
  for (const role of HA_ROLES) {
    const namespace = haNamespaceFor(poolId, role)
    if (!namespaceExists(namespace)) continue
    const shown = await run(['ip', '-o', 'addr', 'show', 'dev', 'vip0'], {netns: namespace, allowFailure: true})
    if (shown.stdout.includes(` ${vip}/`)) found.push(role)
  }
  return found
}

/** The backend that answered a GET on the VIP (port 80), or undefined when it did not answer 200. */
export async function vipAnswer(vip: string): Promise<string | undefined> {
  try {
    const reply = await send(vip, 80, {timeoutMs: 500})
    return reply.status === 200 ? reply.backend : undefined
  } catch {
    return undefined
  }
}

/** SIGKILLs the HAProxy processes started with `config` (found by their command line). */
export async function killHaproxyOf(config: string): Promise<void> {
  for (const found of findProcesses((argv) => argv[0]?.endsWith('haproxy') === true && argv.includes(config))) {
    await terminate(found.pid, {signal: 'SIGKILL', startTime: found.startTime, graceMs: 2_000})
  }
}

/** The peer's host "dies": every process in its namespace is killed, then the namespace goes. */
export async function killPeerHost(poolId: string, role: HaPeerRole): Promise<void> {
  const namespace = haNamespaceFor(poolId, role)
  if (!namespaceExists(namespace)) return
  const pids = (await run(['ip', 'netns', 'pids', namespace])).stdout.split('\n').filter(Boolean).map(Number)
  for (const pid of pids) {
    const startTime = readProcessStat(pid)?.startTime
    if (startTime !== undefined) await terminate(pid, {signal: 'SIGKILL', graceMs: 2_000, startTime}).catch(() => undefined)
  }
  await deleteNamespace(namespace)
}
