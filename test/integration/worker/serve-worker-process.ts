import {setTimeout as sleep} from 'node:timers/promises'
import {execFile, spawn, type ChildProcess} from 'node:child_process'
import {existsSync, openSync, closeSync, readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import {promisify} from 'node:util'

import Database from 'better-sqlite3'

import {adminStatus} from '../../../src/gearman/admin.js'
import {stopHaproxy} from '../../../src/host/haproxy-process.js'
import {poolPaths} from '../../../src/host/names.js'
import {BIN} from '../../helpers/cli.js'
import {StopWaiting, waitFor} from '../../helpers/wait.js'

const execFileAsync = promisify(execFile)

export interface WorkerStart {
  /** Holds state.db, run/ and worker.log. */
  dir: string
  ports: number[]
  functionName: string
  args?: string[]
  /** Wait until the function is registered on these ports (default: all of `ports`). */
  waitOn?: number[]
  /** Added to the worker's environment (e.g. LBAAS_DEBUG, LBAAS_TEST_CRASH_AT). */
  env?: Record<string, string | undefined>
}

/**
 * One `lbaas serve-worker` process of the BUILT CLI, for a test. Stopped by its own PID
 * only. Its stderr (the job log) goes to `<dir>/worker.log`.
 */
export class ServeWorkerProcess {
  private exited: Promise<number | null>
  private exitCode: number | null | undefined

  private constructor(
    readonly options: WorkerStart,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        this.exitCode = code
        resolve(code)
      }),
    )
  }

  static async start(options: WorkerStart): Promise<ServeWorkerProcess> {
    const logFd = openSync(join(options.dir, 'worker.log'), 'a')
    const args = [
      BIN,
      'serve-worker',
      '--state',
      join(options.dir, 'state.db'),
      '--run-dir',
      join(options.dir, 'run'),
      '--function',
      options.functionName,
      ...options.ports.flatMap((port) => ['--server', `127.0.0.1:${port}`]),
      ...(options.args ?? []),
    ]
    const child = spawn(process.execPath, args, {stdio: ['ignore', 'ignore', logFd], env: {...process.env, LBAAS_DEBUG: undefined, ...options.env}})
    closeSync(logFd)
    const worker = new ServeWorkerProcess(options, child)
    try {
      await worker.waitRegistered(options.waitOn ?? options.ports)
    } catch (error) {
      await worker.stop('SIGKILL')
      throw error
    }
    return worker
  }

  get pid(): number {
    return this.child.pid!
  }

  get running(): boolean {
    return this.exitCode === undefined
  }

  /** Waits until every given job server lists a worker for the function. */
  async waitRegistered(ports: number[], timeoutMs = 20_000): Promise<void> {
    const registeredOn = async (port: number) => {
      const status = await adminStatus({host: '127.0.0.1', port}, {timeoutMs: 1_000})
      return (status.find((entry) => entry.function === this.options.functionName)?.availableWorkers ?? 0) > 0
    }
    await waitFor(`serve-worker to register ${this.options.functionName}`, async () => {
      if (!this.running) throw new StopWaiting(`serve-worker exited with ${this.exitCode}:\n${this.log()}`)
      return (await Promise.all(ports.map(registeredOn))).every(Boolean)
    }, timeoutMs, 50).catch((error: Error) => {
      if (error instanceof StopWaiting) throw error
      throw new Error(`serve-worker did not register ${this.options.functionName}:\n${this.log()}`)
    })
  }

  /** Signals this worker and waits for it to exit; SIGKILL after `graceMs`. Returns the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 60_000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null
    this.child.kill(signal)
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(graceMs).then(() => true)])
    if (timedOut) {
      this.child.kill('SIGKILL')
      await this.exited
    }
    return this.exitCode ?? null
  }

  waitExit(): Promise<number | null> {
    return this.exited
  }

  log(): string {
    try {
      return readFileSync(join(this.options.dir, 'worker.log'), 'utf8')
    } catch {
      return '(no log)'
    }
  }
}

/** Sends one job with the `gearman` command-line client and parses the JSON answer. */
export async function gearmanJob(port: number, functionName: string, payload: unknown, timeoutMs = 60_000): Promise<Record<string, any>> {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload)
  const {stdout} = await execFileAsync('gearman', ['-h', '127.0.0.1', '-p', String(port), '-f', functionName, text], {
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  })
  return JSON.parse(stdout) as Record<string, any>
}

/** Sends a payload on stdin (for payloads larger than one argv word may be). */
export function gearmanJobFromStdin(port: number, functionName: string, payload: Buffer, timeoutMs = 60_000): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const child = spawn('gearman', ['-h', '127.0.0.1', '-p', String(port), '-f', functionName], {stdio: ['pipe', 'pipe', 'pipe']})
    const chunks: Buffer[] = []
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk))
    child.once('error', reject)
    child.once('exit', (code) => {
      clearTimeout(timer)
      if (code !== 0) reject(new Error(`gearman exited with ${code}`))
      else {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')))
        } catch (error) {
          reject(error)
        }
      }
    })
    child.stdin.end(payload)
  })
}

/**
 * The end of a test that ran a worker: when it still runs, asks it to UNDEPLOY the native
 * pools it was given and DELETE its Libra device (failures ignored: the test may have
 * failed anywhere), then stops it and removes whatever of the device is left.
 */
export async function retireWorker(
  worker: ServeWorkerProcess | undefined,
  dir: string,
  send: (message: Record<string, unknown>) => Promise<unknown>,
  nativePools: readonly string[] = [],
): Promise<void> {
  if (worker?.running) {
    for (const pool of nativePools) await send({lbaas_action: 'UNDEPLOY', lbaas_version: 1, pool_id: pool}).catch(() => undefined)
    await send({hpcs_action: 'DELETE'}).catch(() => undefined)
  }
  await worker?.stop()
  await removeDeviceLeftovers(dir)
}

/**
 * Removes what a worker's Libra device left on the host if the test failed before DELETE:
 * its HAProxy (proven by its identity record in the worker's own run dir) and its namespace.
 */
export async function removeDeviceLeftovers(dir: string): Promise<void> {
  const statePath = join(dir, 'state.db')
  if (!existsSync(statePath)) return
  let deviceId: string | undefined
  try {
    const db = new Database(statePath, {readonly: true, fileMustExist: true})
    try {
      deviceId = (db.prepare('SELECT id FROM libra_device').get() as {id: string} | undefined)?.id
    } finally {
      db.close()
    }
  } catch {
    return
  }
  if (!deviceId) return
  // Only an HAProxy its identity record proves (SPEC §4.7): the pid file of one that died may name a recycled PID.
  await stopHaproxy(poolPaths(join(dir, 'run'), deviceId)).catch(() => undefined)
  await execFileAsync('ip', ['netns', 'del', `lbaas-${deviceId}`]).catch(() => undefined)
  rmSync(join(dir, 'run', deviceId), {recursive: true, force: true})
}
