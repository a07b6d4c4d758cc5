import {join} from 'node:path'

import {afterEach, beforeEach, expect} from 'vitest'

import {LbaasError} from '../../src/domain/errors.js'

import type {PoolGraph} from '../../src/domain/types.js'
import {NoopExecutor, type ExecutorCall} from '../../src/executor/noop.js'
import type {LiveStats} from '../../src/executor/port.js'
import {silentNotifier, type AppContext} from '../../src/service/context.js'
import {openAppContext} from '../../src/service/wiring.js'
import type {PoolExecutor} from '../../src/executor/port.js'
import {tempDir} from './tmp.js'

export type RecordedCall = ExecutorCall

/**
 * The shipped noop executor (src/executor/noop.ts) with two test controls: fail the next
 * changing call, or report live statistics. Unit tests of services use it; the real
 * executor is tested against the host in integration tests.
 */
export class RecordingExecutor extends NoopExecutor {
  override readonly name: string = 'recording'
  failNext?: Error
  live?: LiveStats

  protected override record(call: ExecutorCall): void {
    super.record(call)
    if (call.method === 'liveStats' || call.method === 'removeSubnet') return
    const failure = this.failNext
    this.failNext = undefined
    if (failure) throw failure
  }

  override async liveStats(graph: PoolGraph): Promise<LiveStats | null> {
    await super.liveStats(graph)
    return this.live ?? null
  }
}

/** The CLI's own wiring over a fresh state file in a temporary directory, every pool on `executor`. */
export function testContext(executor: PoolExecutor = new RecordingExecutor()): AppContext & {cleanup: () => void} {
  const dir = tempDir()
  const ctx = openAppContext({state: join(dir.path, 'state.db'), runDir: join(dir.path, 'run'), notify: silentNotifier, executor, safeConnectionLimit: 8000})
  return Object.assign(ctx, {
    cleanup() {
      ctx.store.close()
      dir.cleanup()
    },
  })
}

export type TestContext = ReturnType<typeof testContext>

/**
 * A fresh RecordingExecutor and test context for each test of the calling file (registers
 * its beforeEach and afterEach); `use` receives them: `useRecordingContext((made) => ({ctx, executor} = made))`.
 */
export function useRecordingContext(use: (made: {ctx: TestContext; executor: RecordingExecutor}) => void): void {
  let current: TestContext | undefined
  beforeEach(() => {
    const executor = new RecordingExecutor()
    current = testContext(executor)
    use({ctx: current, executor})
  })
  afterEach(() => current?.cleanup())
}

/**
 * A refusal that comes before anything reaches the host: `attempt` rejects with an
 * LbaasError and the executor saw no new call. Returns the error.
 */
export async function refusedBeforeTheHost(executor: RecordingExecutor, attempt: () => Promise<unknown>): Promise<LbaasError> {
  const calls = executor.calls.length
  const error = await attempt().then(
    () => undefined,
    (failure: unknown) => failure,
  )
  expect(error).toBeInstanceOf(LbaasError)
  expect(executor.calls.length, 'nothing reached the host').toBe(calls)
  return error as LbaasError
}
