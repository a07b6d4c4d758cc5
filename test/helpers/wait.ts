import {setTimeout as sleep} from 'node:timers/promises'

type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>

/**
 * Thrown by a probe to stop waiting at once (the awaited thing can no longer happen: the
 * process exited, say); waitFor rethrows it instead of trying again.
 */
export class StopWaiting extends Error {}

/**
 * Polls `probe` until it returns a truthy value, and returns that value. A probe that throws
 * is tried again (the last error is named when time runs out), except with StopWaiting.
 * Bounded: throws `timed out waiting for <what>` after `timeoutMs`.
 */
export async function waitFor<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000, pauseMs = 100): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value) return value as Truthy<T>
    } catch (error) {
      if (error instanceof StopWaiting) throw error
      lastError = error
    }
    if (Date.now() >= deadline) {
      const cause = lastError === undefined ? '' : ` (last error: ${lastError instanceof Error ? lastError.message : String(lastError)})`
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`)
    }
    await sleep(pauseMs)
  }
}
