/**
 * Real HAProxy for integration tests: a private network namespace (`lbt<suffix>`), small
 * recording HTTP backends inside it, and an HAProxy master-worker started the way the
 * executor starts it. Everything is stopped by PID and removed by name in `cleanup()`.
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {identityOf, isAlive, terminate, type ProcessIdentity} from '../../src/host/proc.js'
import {run as runProgram} from '../../src/host/run.js'
import {uniqueSuffix} from './unique.js'
import {waitFor} from './wait.js'

export interface RunResult {
  exitCode: number | undefined
  stdout: string
  stderr: string
}

export async function run(argv: string[], timeoutMs = 15_000): Promise<RunResult> {
  return runProgram(argv, {timeoutMs, allowFailure: true})
}

async function mustRun(argv: string[], timeoutMs?: number): Promise<RunResult> {
  const result = await run(argv, timeoutMs)
  if (result.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (${result.exitCode}): ${result.stderr}`)
  return result
}

export interface TestNamespace {
  name: string
  /** Runs a program inside the namespace. */
  exec(argv: string[], timeoutMs?: number): Promise<RunResult>
  remove(): Promise<void>
}

export async function createTestNamespace(): Promise<TestNamespace> {
  const name = `lbt${uniqueSuffix(8)}`
  await mustRun(['ip', 'netns', 'add', name])
  await mustRun(['ip', '-n', name, 'link', 'set', 'lo', 'up'])
  return {
    name,
    exec: (argv, timeoutMs) => run(['ip', 'netns', 'exec', name, ...argv], timeoutMs),
    remove: async () => {
      await run(['ip', 'netns', 'del', name])
    },
  }
}

export interface BackendRecord {
  name: string
  requestLine: string
  cookie: string | null
}

export interface RecordingBackends {
  records(): BackendRecord[]
  stop(): void
}

const BACKEND_SCRIPT = fileURLToPath(new URL('../fixtures/haproxy/record-backend.mjs', import.meta.url))

/** Starts test/fixtures/haproxy/record-backend.mjs inside the namespace. */
export async function startRecordingBackends(
  namespace: TestNamespace,
  backends: {name: string; host: string; port: number}[],
  cookieName: string,
): Promise<RecordingBackends> {
  const child: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', namespace.name, process.execPath, BACKEND_SCRIPT, JSON.stringify(backends), cookieName],
    {stdio: ['ignore', 'pipe', 'inherit']},
  )
  const records: BackendRecord[] = []
  const listening = new Set<string>()
  let buffer = ''
  child.stdout!.setEncoding('utf8')
  child.stdout!.on('data', (chunk: string) => {
    buffer += chunk
    let newline: number
    while ((newline = buffer.indexOf('\n')) !== -1) {
      const entry = JSON.parse(buffer.slice(0, newline)) as BackendRecord & {listening?: string}
      buffer = buffer.slice(newline + 1)
      if (entry.listening) listening.add(entry.listening)
      else records.push(entry)
    }
  })
  const stop = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
  }
  try {
    await waitFor('the test backends to listen', () => (listening.size === backends.length ? true : undefined), 10_000, 20)
  } catch (error) {
    stop()
    throw error
  }
  return {records: () => [...records], stop}
}

export interface RunningHaproxy {
  masterPid: number
  masterSocket: string
  /** Stops the master (SIGTERM, then SIGKILL by PID for anything left) and waits for it. */
  stop(): Promise<void>
}

/** `ip netns exec NS haproxy -W -D -S <master>,mode,600 -p <pid> -f <config>`, as the executor runs it. */
export async function startHaproxy(namespace: TestNamespace, dir: string, configPath: string): Promise<RunningHaproxy> {
  const masterSocket = `${dir}/master.sock`
  const pidFile = `${dir}/haproxy.pid`
  const started = await namespace.exec(['haproxy', '-W', '-D', '-S', `${masterSocket},mode,600`, '-p', pidFile, '-f', configPath])
  if (started.exitCode !== 0) throw new Error(`haproxy did not start (${started.exitCode}): ${started.stderr}`)
  const masterPid = Number(readFileSync(pidFile, 'utf8').trim())
  // Signals go only to the processes started here (their start times), never to a recycled PID.
  const master = identityOf(masterPid)
  if (!master) throw new Error(`haproxy's master ${masterPid} is not running`)
  const children = (): ProcessIdentity[] => {
    try {
      const pids = readFileSync(`/proc/${masterPid}/task/${masterPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
      return pids.flatMap((pid) => identityOf(pid) ?? [])
    } catch {
      return []
    }
  }
  return {
    masterPid,
    masterSocket,
    stop: async () => {
      const workers = isAlive(master.pid, master.startTime) ? children() : []
      await terminate(master.pid, {graceMs: 10_000, startTime: master.startTime})
      for (const worker of workers) await terminate(worker.pid, {signal: 'SIGKILL', graceMs: 2_000, startTime: worker.startTime})
    },
  }
}

/** Tears down what a test file started, HAProxy first; the backends, namespace and dir go even if stopping HAProxy fails. */
export async function stopHaproxyRig(parts: {haproxy?: RunningHaproxy; backends?: RecordingBackends; namespace?: TestNamespace; dir: {cleanup(): void}}): Promise<void> {
  try {
    await parts.haproxy?.stop()
  } finally {
    parts.backends?.stop()
    await parts.namespace?.remove()
    parts.dir.cleanup()
  }
}

export async function curl(namespace: TestNamespace, url: string, headers: string[] = []): Promise<{status: number; body: string}> {
  const argv = ['curl', '-s', '-m', '5', '-o', '-', '-w', '\n%{http_code}']
  for (const header of headers) argv.push('-H', header)
  const result = await namespace.exec([...argv, url], 10_000)
  const newline = result.stdout.lastIndexOf('\n')
  return {status: Number(result.stdout.slice(newline + 1)), body: result.stdout.slice(0, newline)}
}
