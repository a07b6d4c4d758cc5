/**
 * The executor that touches nothing: it records each call and answers as if the host had
 * done the work (a pool with a live VIP is serving, one without is absent). Chosen by
 * service/wiring with LBAAS_EXECUTOR=noop: commands then run without root, namespaces or
 * HAProxy (in-process command tests, scripts that fill a state file quickly). Idempotent;
 * throws nothing.
 */
import {liveVip} from '../domain/status.js'
import type {PoolGraph, Subnet} from '../domain/types.js'
import type {DeployOutcome, ExecutorHooks, LiveStats, PoolExecutor} from './port.js'

export interface ExecutorCall {
  method: 'deploy' | 'applyRuntime' | 'undeploy' | 'liveStats' | 'ensureSubnet' | 'removeSubnet'
  /** The pool's id (the subnet's for ensureSubnet/removeSubnet). */
  poolId: string
  graph?: PoolGraph
  memberIds?: readonly string[]
}

export class NoopExecutor implements PoolExecutor {
  readonly name: string = 'noop'
  calls: ExecutorCall[] = []
  /** Warnings every deploy reports (none unless set). */
  warnings: string[] = []

  protected record(call: ExecutorCall): void {
    this.calls.push(call)
  }

  protected outcome(graph: PoolGraph): DeployOutcome {
    const serving = liveVip(graph) !== null
    return {state: serving ? 'serving' : 'absent', reloaded: serving, description: null, warnings: this.warnings}
  }

  async deploy(graph: PoolGraph, _hooks: ExecutorHooks): Promise<DeployOutcome> {
    this.record({method: 'deploy', poolId: graph.pool.id, graph})
    return this.outcome(graph)
  }

  async applyRuntime(graph: PoolGraph, memberIds: readonly string[], _hooks: ExecutorHooks): Promise<DeployOutcome> {
    this.record({method: 'applyRuntime', poolId: graph.pool.id, graph, memberIds})
    return {...this.outcome(graph), reloaded: false}
  }

  async undeploy(poolId: string): Promise<void> {
    this.record({method: 'undeploy', poolId})
  }

  async liveStats(graph: PoolGraph): Promise<LiveStats | null> {
    this.record({method: 'liveStats', poolId: graph.pool.id})
    return null
  }

  async ensureSubnet(subnet: Subnet): Promise<void> {
    this.record({method: 'ensureSubnet', poolId: subnet.id})
  }

  async removeSubnet(subnet: Subnet): Promise<void> {
    this.record({method: 'removeSubnet', poolId: subnet.id})
  }

  methods(): string[] {
    return this.calls.map((call) => call.method)
  }
}
