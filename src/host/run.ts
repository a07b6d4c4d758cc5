/**
 * The one place that starts programs, through execa. argv arrays only (never a shell), a
 * timeout on every call, stderr kept for the error message, `LC_ALL=C` so messages such as
 * "File exists" can be recognised.
 *
 * Contract of `run`: resolves with stdout/stderr/exit code when the program exits 0 (or
 * with any exit code when `allowFailure`); throws ExternalCommandError (argv, exit code,
 * stderr) on a non-zero exit, a timeout (the program is killed) or a program that could
 * not be started. A timeout or a failed start throws even with `allowFailure`.
 *
 * execa is imported on the first program run, not at start-up: its module graph costs
 * 180-450 ms to load on this machine, so the build pre-bundles it into one file
 * (dist/vendor/execa.js, BENCHMARKS.md) and the source tree falls back to the package.
 *
 * Tracing: `LBAAS_DEBUG=1` prints every command with its duration to stderr;
 * `recordCommands()` / `onCommand()` let the CLI count or list what ran.
 */
import {closeSync, openSync} from 'node:fs'
import {dirname} from 'node:path'
import {ExternalCommandError} from '../domain/errors.js'
import {makePrivateDirs} from '../util/fs.js'
import {formatArgv} from '../util/argv.js'

type Execa = typeof import('execa')
type StdioOption = import('execa').Options['stdio']
let execaModule: Promise<Execa> | undefined

/** The bundled execa of the build (dist/vendor/execa.js), else the package (tests run the sources). */
function loadExeca(): Promise<Execa> {
  execaModule ??= (import(new URL('../../vendor/execa.js', import.meta.url).href) as Promise<Execa>).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ERR_MODULE_NOT_FOUND') throw error
    return import('execa')
  })
  return execaModule
}

export const DEFAULT_TIMEOUT_MS = 10_000
/** After a timeout the program gets SIGTERM, then SIGKILL this much later. */
const FORCE_KILL_AFTER_MS = 1_000

export interface RunOptions {
  /** Kill the program and throw after this long; default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number
  /** Written to the program's stdin (e.g. an `ip -batch -` script); stdin is closed otherwise. */
  input?: string
  /** Resolve with a non-zero exit code instead of throwing. */
  allowFailure?: boolean
  /** Run inside this network namespace (`ip netns exec <netns> …`). */
  netns?: string
  /** How the failure message names the command (default: the argv). */
  what?: string
}

export interface RunResult {
  stdout: string
  stderr: string
  exitCode: number
}

export interface CommandRecord {
  /** The argv as started, including an `ip netns exec` prefix. */
  argv: readonly string[]
  input?: string
  /** undefined when the program did not start, timed out or was killed by a signal. */
  exitCode: number | undefined
  durationMs: number
  outcome: 'exited' | 'timed-out' | 'signalled' | 'not-started' | 'detached'
}

type CommandListener = (record: CommandRecord) => void

const listeners = new Set<CommandListener>()

/** Calls `listener` after every program this process runs; returns the unsubscribe function. */
export function onCommand(listener: CommandListener): () => void {
  listeners.add(listener)
  return () => listeners.delete(listener)
}

export interface CommandRecorder {
  readonly commands: readonly CommandRecord[]
  stop(): void
}

/** Collects every command run from now until `stop()`. */
export function recordCommands(): CommandRecorder {
  const commands: CommandRecord[] = []
  const stop = onCommand((record) => commands.push(record))
  return {commands, stop}
}

function emit(record: CommandRecord): void {
  if (process.env.LBAAS_DEBUG === '1') {
    const status = record.exitCode === undefined ? record.outcome : `exit ${record.exitCode}`
    let line = `lbaas: ${record.durationMs.toFixed(1).padStart(7)} ms  ${status.padEnd(9)} ${formatArgv(record.argv)}\n`
    if (record.input) line += record.input.trimEnd().split('\n').map((text) => `    < ${text}\n`).join('')
    process.stderr.write(line)
  }
  for (const listener of listeners) listener(record)
}

const NETNS_NAME = /^[A-Za-z0-9_.-]{1,200}$/

function fullArgv(argv: readonly string[], netns: string | undefined): string[] {
  if (argv.length === 0 || argv[0] === '') throw new Error('run: empty argv')
  if (netns === undefined) return [...argv]
  if (!NETNS_NAME.test(netns)) throw new Error(`run: invalid namespace name ${JSON.stringify(netns)}`)
  return ['ip', 'netns', 'exec', netns, ...argv]
}

export interface RunningCommand {
  readonly pid: number | undefined
  /** Sends a signal to the program; false when it has already exited. */
  kill(signal: NodeJS.Signals): boolean
  /** Settles when the program has exited and been reaped. */
  readonly finished: Promise<FinishedCommand>
}

export interface FinishedCommand {
  stdout: string
  stderr: string
  exitCode: number | undefined
  signal: string | undefined
}

/**
 * Starts a program and returns at once, for callers that must act while it runs (e.g.
 * stop `arping` once it has sent its packet). The program is always awaited through
 * `finished`, so it never outlives the caller's bookkeeping as a zombie. Never throws for
 * the exit status; `finished` rejects only when the program could not be started.
 */
export async function startCommand(argv: readonly string[], options: Omit<RunOptions, 'allowFailure'> = {}): Promise<RunningCommand> {
  const full = fullArgv(argv, options.netns)
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const {execa} = await loadExeca()
  const started = performance.now()
  const subprocess = execa(full[0], full.slice(1), {
    ...(options.input === undefined ? {stdin: 'ignore' as const} : {input: options.input}),
    env: {LC_ALL: 'C'},
    timeout: timeoutMs,
    forceKillAfterDelay: FORCE_KILL_AFTER_MS,
    reject: false,
    // No exit hooks: signal-exit handlers would change how Ctrl-C reaches the CLI.
    cleanup: false,
  })
  const finished = subprocess.then((result): FinishedCommand => {
    const durationMs = performance.now() - started
    const notStarted = result.failed && result.exitCode === undefined && result.signal === undefined && !result.timedOut
    if (notStarted) {
      emit({argv: full, input: options.input, exitCode: undefined, durationMs, outcome: 'not-started'})
      const detail = result.code === 'ENOENT' ? `${full[0]}: program not found (is it installed and on PATH?)` : result.originalMessage ?? 'could not be started'
      throw new ExternalCommandError(full, undefined, detail, options.what)
    }
    const outcome = result.timedOut ? 'timed-out' : result.signal ? 'signalled' : 'exited'
    emit({argv: full, input: options.input, exitCode: result.exitCode, durationMs, outcome})
    if (result.timedOut) {
      throw new ExternalCommandError(full, undefined, result.stderr ?? '', `${options.what ?? formatArgv(full)} (timed out after ${timeoutMs} ms)`)
    }
    return {stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode, signal: result.signal}
  })
  // A caller that only reads `pid` must not see an unhandled rejection.
  finished.catch(() => undefined)
  return {
    pid: subprocess.pid,
    kill: (signal) => subprocess.exitCode === null && subprocess.signalCode === null && subprocess.kill(signal),
    finished,
  }
}

/** Runs a program to completion; see the module contract. */
export async function run(argv: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const running = await startCommand(argv, options)
  const finished = await running.finished
  const full = fullArgv(argv, options.netns)
  if (finished.exitCode === undefined) {
    throw new ExternalCommandError(full, undefined, finished.stderr || `killed by ${finished.signal}`, options.what)
  }
  if (finished.exitCode !== 0 && !options.allowFailure) {
    throw new ExternalCommandError(full, finished.exitCode, finished.stderr, options.what)
  }
  return {stdout: finished.stdout, stderr: finished.stderr, exitCode: finished.exitCode}
}

export interface DetachedOptions {
  /** stdout and stderr are appended here (created 0600, its directory 0700). */
  logFile: string
  netns?: string
  cwd?: string
  /** Added to the environment. */
  env?: Record<string, string>
}

/**
 * Starts a long-running program (a lab backend) in its own session and process group,
 * with stdout/stderr appended to `logFile`, and returns its PID once the kernel has
 * started it. It is not awaited: this process may exit first, and the program keeps
 * running. Throws ExternalCommandError when the program could not be started.
 */
export async function spawnDetached(argv: readonly string[], options: DetachedOptions): Promise<number> {
  const full = fullArgv(argv, options.netns)
  makePrivateDirs(dirname(options.logFile))
  const log = openSync(options.logFile, 'a', 0o600)
  const {execa} = await loadExeca()
  const started = performance.now()
  try {
    const subprocess = execa(full[0], full.slice(1), {
      detached: true,
      // The log file's descriptor goes to the program itself: nothing is piped through this process.
      stdio: ['ignore', log, log] as StdioOption,
      ...(options.cwd === undefined ? {} : {cwd: options.cwd}),
      env: {LC_ALL: 'C', ...options.env},
      reject: false,
    })
    const pid = await new Promise<number>((resolve, reject) => {
      subprocess.once('spawn', () => resolve(subprocess.pid!))
      void subprocess.then((result) => {
        if (subprocess.pid !== undefined) return
        const detail = result.code === 'ENOENT' ? `${full[0]}: program not found (is it installed and on PATH?)` : result.originalMessage ?? 'could not be started'
        reject(new ExternalCommandError(full, undefined, detail))
      })
    })
    subprocess.unref()
    emit({argv: full, exitCode: undefined, durationMs: performance.now() - started, outcome: 'detached'})
    return pid
  } catch (error) {
    emit({argv: full, exitCode: undefined, durationMs: performance.now() - started, outcome: 'not-started'})
    throw error
  } finally {
    closeSync(log)
  }
}
