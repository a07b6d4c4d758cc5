import {join} from 'node:path'

import type {PoolGraph, Subnet} from '../../src/domain/types.js'
import {silentNotifier, type AppContext} from '../../src/service/context.js'
import type {DeployOutcome, ExecutorHooks, LiveStats, PoolExecutor} from '../../src/executor/port.js'
import {openStore} from '../../src/store/db.js'
import {tempDir} from './tmp.js'

export interface RecordedCall {
  method: string
  poolId?: string
  graph?: PoolGraph
  memberIds?: readonly string[]
}

/**
 * A test double of the executor port: records every call and can be told to fail or to
 * report live statistics. Unit tests of services use it; the real executor is tested
 * against the host in integration tests.
 */
export class RecordingExecutor implements PoolExecutor {
  readonly name = 'recording'
  calls: RecordedCall[] = []
  failNext?: Error
  live?: LiveStats
  warnings: string[] = []

  private outcome(graph: PoolGraph): DeployOutcome {
    const serving = graph.vip !== null && graph.vip.status !== 'PENDING_DELETE'
    return {state: serving ? 'serving' : 'absent', reloaded: serving, description: null, warnings: this.warnings}
  }

  private maybeFail(): void {
    const failure = this.failNext
    this.failNext = undefined
    if (failure) throw failure
  }

  async deploy(graph: PoolGraph, _hooks: ExecutorHooks): Promise<DeployOutcome> {
    this.calls.push({method: 'deploy', poolId: graph.pool.id, graph})
    this.maybeFail()
    return this.outcome(graph)
  }

  async applyRuntime(graph: PoolGraph, memberIds: readonly string[]): Promise<DeployOutcome> {
    this.calls.push({method: 'applyRuntime', poolId: graph.pool.id, graph, memberIds})
    this.maybeFail()
    return {...this.outcome(graph), reloaded: false}
  }

  async undeploy(poolId: string): Promise<void> {
    this.calls.push({method: 'undeploy', poolId})
    this.maybeFail()
  }

  async liveStats(graph: PoolGraph): Promise<LiveStats | null> {
    this.calls.push({method: 'liveStats', poolId: graph.pool.id})
    return this.live ?? null
  }

  async ensureSubnet(subnet: Subnet): Promise<void> {
    this.calls.push({method: 'ensureSubnet', poolId: subnet.id})
    this.maybeFail()
  }

  async removeSubnet(subnet: Subnet): Promise<void> {
    this.calls.push({method: 'removeSubnet', poolId: subnet.id})
  }

  methods(): string[] {
    return this.calls.map((call) => call.method)
  }
}

export function testContext(executor: PoolExecutor = new RecordingExecutor()): AppContext & {cleanup: () => void} {
  const dir = tempDir()
  const statePath = join(dir.path, 'state.db')
  const store = openStore(statePath)
  const locks = new Map<string, Promise<unknown>>()
  return {
    store,
    statePath,
    runDir: join(dir.path, 'run'),
    executorFor: () => executor,
    localExecutor: executor,
    async withPoolLock(poolId, work) {
      const previous = locks.get(poolId) ?? Promise.resolve()
      const next = previous.catch(() => undefined).then(work)
      locks.set(poolId, next)
      return next
    },
    safeConnectionLimit: () => 8000,
    notify: silentNotifier,
    device: {restore: async () => undefined, renderStored: async () => null},
    hostExecutor: async () => {
      throw new Error('the unit-test context has no host executor')
    },
    cleanup() {
      store.close()
      dir.cleanup()
    },
  }
}
