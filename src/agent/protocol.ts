/**
 * This project's own Gearman messages between a controller and its agents (SPEC §5–§6).
 * JSON objects with `lbaas_action` and `lbaas_version`; answers carry `lbaas_response`
 * PASS or FAIL and, on FAIL, the LbaasError's code, message and exit code, so the
 * controller rethrows the same typed error (config_rejected → exit 3 on the controller too).
 * Pure: shared by src/agent/ (controller) and worker/native.ts (agent).
 */
import {ConfigRejectedError, LbaasError, type ExitCode} from '../domain/errors.js'
import type {PoolGraph} from '../domain/types.js'
import type {CumulativeCounters} from '../store/stats.js'
import type {DeployOutcome, LiveMemberHealth} from '../executor/port.js'

/** The wire version; an agent refuses requests of another version. */
export const LBAAS_PROTOCOL_VERSION = 1

/** The client id every serve-worker sends (SET_CLIENT_ID): how a controller tells agents from other workers. */
export const AGENT_CLIENT_ID = 'lbaas-agent'

export const NATIVE_ACTIONS = ['DEPLOY', 'UNDEPLOY', 'RUNTIME', 'STATS', 'DISCOVER'] as const
export type NativeAction = (typeof NATIVE_ACTIONS)[number]
export const QUICK_NATIVE_ACTIONS: ReadonlySet<string> = new Set(['STATS', 'DISCOVER'])

interface RequestBase {
  lbaas_version: number
  /** ISO time after which the agent refuses the job: Gearman cannot cancel a job a controller gave up on. */
  expires_at?: string
}

export type NativeRequest = RequestBase &
  (
    | {lbaas_action: 'DEPLOY'; graph: PoolGraph}
    | {lbaas_action: 'RUNTIME'; graph: PoolGraph; member_ids: string[]}
    | {lbaas_action: 'UNDEPLOY'; pool_id: string}
    | {lbaas_action: 'STATS'; pool_id: string}
    | {lbaas_action: 'DISCOVER'}
  )

export interface WireError {
  code: string
  message: string
  exit: ExitCode
  /** HAProxy's words, for config_rejected. */
  haproxy_output?: string
}

export interface HostedPool {
  id: string
  /** sha256 of the configuration HAProxy runs; null when not running. */
  config_hash: string | null
  running: boolean
}

export interface AgentDiscovery {
  /** Package version of the agent's lbaas. */
  version: string
  protocol: number
  function: string
  pools: HostedPool[]
  capacity: {concurrency: number; running_jobs: number; max_connections: number}
  device: {mode: string; state: string; address: string | null}
}

export interface AgentStats {
  running: boolean
  /** Cumulative across the agent's reloads and restarts (the agent keeps the baseline). */
  counters: CumulativeCounters
  members: LiveMemberHealth[]
}

export type NativeResponse =
  | {lbaas_response: 'FAIL'; lbaas_action?: string; error: WireError}
  | ({lbaas_response: 'PASS'; lbaas_action: string} & Partial<{
      outcome: DeployOutcome
      /** DEPLOY/RUNTIME: the agent's counters for the pool start from zero (the pool is new there). */
      counters_restarted: boolean
      /** DEPLOY/RUNTIME: sha256 of the configuration the agent now runs (as DISCOVER reports it); null when not running. */
      config_hash: string | null
      stats: AgentStats
      discovery: AgentDiscovery
    }>)

export function wireError(error: unknown): WireError {
  if (error instanceof ConfigRejectedError) {
    return {code: error.code, message: error.message, exit: error.exit, haproxy_output: error.haproxyOutput}
  }
  if (error instanceof LbaasError) return {code: error.code, message: error.message, exit: error.exit}
  return {code: 'internal_error', message: `internal error: ${(error as Error)?.message ?? String(error)}`, exit: 1}
}

const EXIT_CODES: readonly number[] = [1, 2, 3, 4, 5]

/** The error an agent reported, as the same typed error on the controller. */
export function errorFromWire(agent: string, error: WireError | undefined): LbaasError {
  if (!error || typeof error.code !== 'string' || typeof error.message !== 'string') {
    return new LbaasError('agent_protocol', 1, `agent ${agent} answered FAIL without saying why`)
  }
  if (error.code === 'config_rejected' && typeof error.haproxy_output === 'string') {
    const rejected = new ConfigRejectedError('', error.haproxy_output)
    Object.defineProperty(rejected, 'message', {value: `agent ${agent}: ${error.message}`})
    return rejected
  }
  const exit = (EXIT_CODES.includes(error.exit) ? error.exit : 1) as ExitCode
  return new LbaasError(error.code, exit, `agent ${agent}: ${error.message}`)
}
