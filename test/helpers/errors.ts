import {LbaasError} from '../../src/domain/errors.js'

/**
 * The code of the LbaasError `action` throws, or undefined when it throws nothing. Any other
 * error is thrown on: a crash is not a refusal, and the test should say so.
 */
export function codeOf(action: () => unknown): string | undefined {
  try {
    action()
  } catch (error) {
    if (error instanceof LbaasError) return error.code
    throw error
  }
  return undefined
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
