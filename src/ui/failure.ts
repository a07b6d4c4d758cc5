/**
 * How a failure reaches the operator (SPEC §2): a message and a hint on stderr, or the
 * `--json` error object on stdout, and the exit code. Free of oclif, so the fast path of
 * bin/run.js shares it.
 */
import {ApplyFileError, EXIT, LbaasError, UsageError} from '../domain/errors.js'

/** Anything thrown becomes an LbaasError: oclif parse errors are usage errors (exit 2). */
export function toLbaasError(error: unknown): LbaasError {
  if (error instanceof LbaasError) return error
  const candidate = error as {name?: string; message?: string; oclif?: {exit?: number}; parse?: unknown}
  if (candidate?.name === 'ExitPromptError') return new LbaasError('cancelled', EXIT.usage, 'cancelled: nothing was changed')
  if (candidate?.parse !== undefined || candidate?.oclif?.exit === 2) {
    return new UsageError(firstLine(candidate.message ?? 'invalid arguments'), 'see --help')
  }
  return new LbaasError('internal_error', EXIT.runtime, `internal error: ${candidate?.message ?? String(error)}`, 'set LBAAS_DEBUG=1 for details')
}

function firstLine(text: string): string {
  return text.split('\n').find((line) => line.trim().length > 0)?.trim() ?? text
}

export function jsonRequested(argv: readonly string[]): boolean {
  return argv.some(
    (arg, index) =>
      arg === '--json' ||
      arg === '-fjson' ||
      arg === '--format=json' ||
      ((arg === '-f' || arg === '--format') && argv[index + 1] === 'json'),
  )
}

/** Prints the failure; returns its exit code. */
export function reportFailure(error: unknown, options: {json: boolean; hint?: string}): number {
  const failure = toLbaasError(error)
  if (options.json) {
    const error = {code: failure.code, message: failure.message, exit: failure.exit}
    // plan/apply --json keep their shape on a refused file: the problems are its errors (SPEC §8.2).
    const body = failure instanceof ApplyFileError ? {changed: false, actions: [], errors: failure.problems, error} : {error}
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`)
  } else {
    process.stderr.write(`error: ${failure.message}\n`)
    const hint = failure.suggestion ?? options.hint
    if (hint) process.stderr.write(`hint: ${hint}\n`)
    if (process.env.LBAAS_DEBUG && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`)
  }
  return failure.exit
}

export function colorEnabled(): boolean {
  return Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb'
}
