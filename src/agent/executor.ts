/**
 * The PoolExecutor of a pool placed on an agent (SPEC §6): every pool command works the same
 * whether its pool is local or on an agent, because the work goes through this executor as
 * native jobs.
 */
import {RuntimeFailure} from '../domain/errors.js'
import type {PoolGraph, Subnet} from '../domain/types.js'
import type {DeployOutcome, ExecutorHooks, LiveStats, PoolExecutor} from '../executor/port.js'
import {forgetDeployedConfig, pendingUndeploys, recordDeployedConfig, removePendingUndeploy} from '../store/agents.js'
import type {Store} from '../store/db.js'
import type {AgentStats} from './protocol.js'
import {AGENT_TIMEOUTS, isRecord, requestAgent, type AgentTransport, type RequestBody} from './transport.js'

/**
 * `reloaded` as apply.ts reads it: the counters this executor reports restarted from zero.
 * An agent keeps its counters cumulative across its own reloads, so that happens only when
 * the pool is new on the agent (created there, or moved there).
 */
function outcomeOf(agent: string, value: unknown, countersRestarted: unknown): DeployOutcome {
  const states = ['serving', 'stopped', 'absent']
  if (!isRecord(value) || !states.includes(value.state as string) || typeof value.reloaded !== 'boolean') {
    throw new RuntimeFailure('agent_protocol', `agent ${agent} answered DEPLOY without an outcome`)
  }
  const warnings = Array.isArray(value.warnings) ? value.warnings.filter((warning): warning is string => typeof warning === 'string') : []
  return {
    state: value.state as DeployOutcome['state'],
    reloaded: countersRestarted === true,
    description: typeof value.description === 'string' ? value.description : null,
    warnings: warnings.map((warning) => `agent ${agent}: ${warning}`),
  }
}

/**
 * The PoolExecutor of a pool placed on an agent. Before its first request it tells the
 * agent to remove pools that moved away while it was unreachable.
 *
 * Contract (as PoolExecutor): throws AgentUnreachableError (exit 1) when the agent does not
 * answer, the agent's own typed error when it answers FAIL (ConfigRejectedError: exit 3).
 * Counters come back cumulative (the agent keeps them across its reloads), so no
 * `countersBeforeReload` snapshot is needed here.
 */
export class AgentExecutor implements PoolExecutor {
  private flushed = false

  constructor(
    readonly name: string,
    private readonly transport: AgentTransport,
    private readonly store?: Store,
  ) {}

  private async request(body: RequestBody, timeoutMs: number) {
    if (!this.flushed && this.store) {
      this.flushed = true
      await flushPendingUndeploys(this.store, this.transport, this.name)
    }
    return requestAgent(this.transport, this.name, body, timeoutMs)
  }

  async deploy(graph: PoolGraph, _hooks: ExecutorHooks): Promise<DeployOutcome> {
    const answer = await this.request({lbaas_action: 'DEPLOY', graph}, AGENT_TIMEOUTS.deploy)
    const outcome = outcomeOf(this.name, answer.outcome, answer.counters_restarted)
    this.remember(graph.pool.id, answer.config_hash)
    return outcome
  }

  async applyRuntime(graph: PoolGraph, memberIds: readonly string[], _hooks: ExecutorHooks): Promise<DeployOutcome> {
    const answer = await this.request({lbaas_action: 'RUNTIME', graph, member_ids: [...memberIds]}, AGENT_TIMEOUTS.deploy)
    const outcome = outcomeOf(this.name, answer.outcome, answer.counters_restarted)
    this.remember(graph.pool.id, answer.config_hash)
    return outcome
  }

  async undeploy(poolId: string): Promise<void> {
    await this.request({lbaas_action: 'UNDEPLOY', pool_id: poolId}, AGENT_TIMEOUTS.deploy)
    this.store?.write(() => forgetDeployedConfig(this.store!.db, poolId, this.name))
  }

  /** The hash `lbaas sync` compares with the agent's DISCOVER to find a pool that drifted there. */
  private remember(poolId: string, configHash: unknown): void {
    const config_hash = typeof configHash === 'string' ? configHash : null
    this.store?.write(() => recordDeployedConfig(this.store!.db, poolId, {agent: this.name, config_hash}, {soleAgent: true}))
  }

  async liveStats(graph: PoolGraph): Promise<LiveStats | null> {
    const answer = await this.request({lbaas_action: 'STATS', pool_id: graph.pool.id}, AGENT_TIMEOUTS.stats)
    const stats = answer.stats as AgentStats | undefined
    if (!isRecord(stats) || !isRecord(stats.counters) || !Array.isArray(stats.members)) {
      throw new RuntimeFailure('agent_protocol', `agent ${this.name} answered STATS without stats`)
    }
    return stats.running ? {counters: stats.counters, members: stats.members} : null
  }

  /** Agents make a subnet's bridge when a DEPLOY needs it. */
  async ensureSubnet(_subnet: Subnet): Promise<void> {}

  async removeSubnet(_subnet: Subnet): Promise<void> {}
}

/** Sends the UNDEPLOYs an agent missed while unreachable; keeps the ones it still does not take. */
export async function flushPendingUndeploys(store: Store, transport: AgentTransport, agent: string): Promise<string[]> {
  const done: string[] = []
  for (const poolId of store.read(() => pendingUndeploys(store.db, agent))) {
    try {
      await requestAgent(transport, agent, {lbaas_action: 'UNDEPLOY', pool_id: poolId}, AGENT_TIMEOUTS.deploy)
    } catch {
      break
    }
    store.write(() => removePendingUndeploy(store.db, agent, poolId))
    done.push(poolId)
  }
  return done
}

