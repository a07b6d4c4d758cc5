/**
 * The executor port: the seam between the control plane (state file) and the data plane
 * (this host, an agent through Gearman, or nothing). Every change that affects a deployed
 * pool goes through one `PoolExecutor`; services never run programs themselves. A leaf:
 * service/ and host/ both import it, it imports only the domain.
 */
import type {PoolGraph, Subnet} from '../domain/types.js'

/** Raw counters as the running HAProxy reports them (they restart at 0 on every reload). */
export interface RawCounters {
  bytes_in: number
  bytes_out: number
  total_connections: number
  active_connections: number
}

/** How long work tells the operator about progress and warnings. */
export interface Notifier {
  warn(message: string): void
  info(message: string): void
  /** Runs one step of multi-step work, showing it as it runs. */
  step<T>(title: string, work: () => Promise<T>): Promise<T>
}

export const silentNotifier: Notifier = {
  warn() {},
  info() {},
  step: (_title, work) => work(),
}

export interface DeployOutcome {
  /** What the host now runs for the pool. */
  state: 'serving' | 'stopped' | 'absent'
  /** Whether HAProxy was started or reloaded (false for a byte-identical config). */
  reloaded: boolean
  /** Written to status_description of the objects that became ACTIVE (null clears it). */
  description: string | null
  /** Things the operator should know (e.g. persistence that cannot work in TCP mode). */
  warnings: string[]
}

export interface LiveMemberHealth {
  id: string
  /** HAProxy's status text, e.g. `UP`, `DOWN 1/2`, `MAINT`, `no check`. */
  haproxy_status: string
  health: string
  failed_checks: number
  /** The server's own counters since HAProxy started (they restart at a reload); absent when unknown. */
  traffic?: RawCounters
}

export interface LiveStats {
  counters: RawCounters
  members: LiveMemberHealth[]
}

export interface ExecutorHooks {
  /**
   * Called inside the pool lock with the running HAProxy's counters just before it is
   * replaced, once per backend of the configuration (a pool has one; a Libra device up to two).
   */
  countersBeforeReload(raw: RawCounters, backend: string): void
}

/**
 * Contract:
 * - `deploy` makes the host serve exactly `graph` (start, reload, or stop and remove when the
 *   pool has no VIP). Idempotent: a byte-identical configuration is not reloaded. Throws
 *   ConfigRejectedError when HAProxy refuses the configuration (nothing changed on the host),
 *   other LbaasErrors when the host could not be brought to the new state (it keeps or
 *   restores the last good configuration).
 * - `applyRuntime` applies member weight/admin-state changes through HAProxy's runtime API
 *   without a reload and writes the same configuration file `deploy` would.
 * - `undeploy` removes everything of the pool from the host. Idempotent.
 * - `liveStats` reads the running HAProxy; null when the pool is not running.
 * - `ensureSubnet`/`removeSubnet` create or delete what a subnet needs on the host.
 * Callers hold the pool lock around deploy/applyRuntime/undeploy (see service/apply.ts).
 */
export interface PoolExecutor {
  readonly name: string
  deploy(graph: PoolGraph, hooks: ExecutorHooks): Promise<DeployOutcome>
  applyRuntime(graph: PoolGraph, memberIds: readonly string[], hooks: ExecutorHooks): Promise<DeployOutcome>
  undeploy(poolId: string): Promise<void>
  liveStats(graph: PoolGraph): Promise<LiveStats | null>
  ensureSubnet(subnet: Subnet): Promise<void>
  removeSubnet(subnet: Subnet): Promise<void>
}
