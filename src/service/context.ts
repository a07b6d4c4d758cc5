/**
 * What every use case receives: the open state file, where host files live, the executor
 * for a pool, the pool lock, and a way to tell the operator about progress and warnings.
 */
import {homedir} from 'node:os'
import {dirname, join, resolve} from 'node:path'

import type {Pool} from '../domain/types.js'
import type {Store} from '../store/db.js'
import type {AgentTransport} from '../agent/transport.js'
import type {Notifier, PoolExecutor} from '../executor/port.js'
import type {HostInspector, ProcessHost} from '../host/executor.js'

export {silentNotifier, type Notifier} from '../executor/port.js'

export interface AppContext {
  readonly store: Store
  readonly statePath: string
  readonly runDir: string
  /** The one place that decides where a pool's work runs (locally or on its agent). */
  executorFor(pool: Pick<Pool, 'id' | 'agent'>): PoolExecutor
  /** The executor for host-wide things (subnet bridges). */
  readonly localExecutor: PoolExecutor
  /** What sync may ask of this host: inspect a pool, remove a process it proved is lbaas's. */
  hostInspector(): Promise<HostInspector>
  /** What a Libra device (serve-worker) runs its HAProxy process through. */
  processHost(): Promise<ProcessHost>
  withPoolLock<T>(poolId: string, work: () => Promise<T>): Promise<T>
  /** Largest connection_limit this host can honour (see `lbaas doctor`). */
  safeConnectionLimit(): number
  readonly notify: Notifier
  /** How this CLI reaches agents (SPEC §6); absent or without servers: not a controller. */
  readonly agentTransport?: AgentTransport
  /** A serve-worker's Libra device kept in this state file (SPEC §5), as `sync` needs it. */
  readonly device: {
    /** Brings the device back on the host (nothing when there is none). */
    restore(): Promise<void>
    /** The configuration the stored device renders to; null when there is none. */
    renderStored(): Promise<string | null>
  }
}

/** SPEC §2: /var/lib/lbaas/state.db for root, $XDG_STATE_HOME/lbaas/state.db otherwise. */
export function defaultStatePath(env: NodeJS.ProcessEnv = process.env, uid = process.getuid?.() ?? 0): string {
  if (uid === 0) return '/var/lib/lbaas/state.db'
  const stateHome = env.XDG_STATE_HOME || join(homedir(), '.local', 'state')
  return join(stateHome, 'lbaas', 'state.db')
}

/** Run files live beside the state file unless --run-dir / LBAAS_RUN_DIR says otherwise. */
export function defaultRunDir(statePath: string): string {
  return join(dirname(resolve(statePath)), 'run')
}
