import {execFile} from 'node:child_process'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {stateContent} from './state-content.js'

export const BIN = fileURLToPath(new URL('../../bin/run.js', import.meta.url))

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
  /** The signal that ended the process (e.g. SIGKILL), or null when it exited. */
  signal?: NodeJS.Signals | null
}

export interface CliOptions {
  env?: Record<string, string | undefined>
  input?: string
  timeoutMs?: number
}

/** Runs the built `lbaas` binary (no TTY), never throwing on a non-zero exit. */
export function lbaas(args: readonly string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [BIN, ...args],
      {
        env: {...process.env, NO_COLOR: '1', LBAAS_DEBUG: undefined, ...options.env},
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error && typeof (error as NodeJS.ErrnoException & {code?: unknown}).code === 'number'
          ? ((error as unknown as {code: number}).code)
          : error ? 1 : 0
        resolve({exitCode: code, stdout, stderr, signal: (error as {signal?: NodeJS.Signals | null} | null)?.signal ?? null})
      },
    )
    if (options.input !== undefined) child.stdin?.end(options.input)
    else child.stdin?.end()
  })
}

/** A CLI bound to one state file and run dir. */
export function cliFor(dir: string, extraEnv: Record<string, string> = {}) {
  const env = {LBAAS_STATE: join(dir, 'state.db'), LBAAS_RUN_DIR: join(dir, 'run'), ...extraEnv}
  const run = (args: readonly string[], options: CliOptions = {}) => lbaas(args, {...options, env: {...env, ...options.env}})
  return {
    env,
    statePath: env.LBAAS_STATE,
    run,
    /** Runs and parses stdout as JSON (pass --json yourself); throws with stderr on failure. */
    async json<T = unknown>(args: readonly string[]): Promise<T> {
      const result = await run(args)
      if (result.exitCode !== 0) throw new Error(`lbaas ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}${result.stdout}`)
      return JSON.parse(result.stdout) as T
    },
    /** Runs and returns the trimmed stdout (`-f value` style); throws on failure. */
    async value(args: readonly string[]): Promise<string> {
      const result = await run(args)
      if (result.exitCode !== 0) throw new Error(`lbaas ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}${result.stdout}`)
      return result.stdout.trim()
    },
    /** The state file's content, the audit trail aside (a refused command is recorded there, SPEC §10). */
    stateContent: () => stateContent(env.LBAAS_STATE),
  }
}

/** The `--json` error object of a failed command. */
export function errorOf(result: CliResult): {code: string; message: string; exit: number} {
  return (JSON.parse(result.stdout) as {error: {code: string; message: string; exit: number}}).error
}
