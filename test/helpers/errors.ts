import {LbaasError} from '../../src/domain/errors.js'

/**
 * The code of the LbaasError `action` throws (or `work` rejects with), or undefined when it
 * succeeds. Any other error is thrown on: a crash is not a refusal, and the test should say so.
 * `codeOf(() => f())` for a synchronous step, `await codeOf(promise)` for an asynchronous one.
 */
export function codeOf(action: () => unknown): string | undefined
export function codeOf(work: Promise<unknown>): Promise<string | undefined>
export function codeOf(step: (() => unknown) | Promise<unknown>): string | undefined | Promise<string | undefined> {
  if (typeof step === 'function') return thrownBy(step)?.code
  return rejectionOf(step).then((error) => error?.code)
}

/** The LbaasError `work` rejects with, or undefined when it resolves; any other error is thrown on. */
export async function rejectionOf(work: Promise<unknown>): Promise<LbaasError | undefined> {
  try {
    await work
  } catch (error) {
    if (error instanceof LbaasError) return error
    throw error
  }
  return undefined
}

/**
 * The LbaasError of a step that must fail (`refusalOf(() => f())`, `await refusalOf(promise)`);
 * its success fails the test, as any error that is not an LbaasError does.
 */
export function refusalOf(action: () => unknown): LbaasError
export function refusalOf(work: Promise<unknown>): Promise<LbaasError>
export function refusalOf(step: (() => unknown) | Promise<unknown>): LbaasError | Promise<LbaasError> {
  if (typeof step === 'function') return thrownBy(step) ?? expectedARefusal()
  return rejectionOf(step).then((error) => error ?? expectedARefusal())
}

function thrownBy(action: () => unknown): LbaasError | undefined {
  let result: unknown
  try {
    result = action()
  } catch (error) {
    if (error instanceof LbaasError) return error
    throw error
  }
  if (typeof (result as {then?: unknown} | undefined)?.then === 'function') {
    throw new TypeError('the step returned a promise: pass the promise itself (await codeOf(promise))')
  }
  return undefined
}

function expectedARefusal(): never {
  throw new Error('expected the step to fail with an LbaasError, and it succeeded')
}
