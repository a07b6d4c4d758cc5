import {setTimeout as sleep} from 'node:timers/promises'
import {spawn, type ChildProcess} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {acceptsOnLoopback} from '../../../src/host/daemon.js'
import {freePort} from '../../helpers/ports.js'
import {StopWaiting, waitFor} from '../../helpers/wait.js'

/**
 * A private gearmand on a loopback port for one test file. Stopped by its own PID only
 * (other workloads on the machine run gearmand too). Reusable by other integration tests.
 */

export {freePort}

export class Gearmand {
  readonly port: number
  readonly dir: string
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()

  private constructor(port: number, dir: string) {
    this.port = port
    this.dir = dir
  }

  /** Starts gearmand on `port` (default: a free one) and waits until it accepts connections. */
  static async start(port?: number): Promise<Gearmand> {
    const dir = mkdtempSync(join(tmpdir(), 'lbaas-gearmand-'))
    const gearmand = new Gearmand(port ?? (await freePort()), dir)
    try {
      await gearmand.restart()
    } catch (error) {
      rmSync(dir, {recursive: true, force: true})
      throw error
    }
    return gearmand
  }

  get pid(): number | undefined {
    return this.child?.pid
  }

  get running(): boolean {
    return this.child !== undefined
  }

  /** (Re)starts the server on the same port; call after kill(). */
  async restart(): Promise<void> {
    if (this.child) throw new Error('gearmand is already running')
    const child = spawn(
      'gearmand',
      ['-L', '127.0.0.1', '-p', String(this.port), '--log-file', join(this.dir, 'gearmand.log'),
        '-P', join(this.dir, 'gearmand.pid'), '-t', '1', '--verbose', 'INFO'],
      {stdio: 'ignore'},
    )
    this.child = child
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()))
    let exitedEarly = false
    void this.exited.then(() => {
      exitedEarly = true
      if (this.child === child) this.child = undefined
    })
    const started = await waitFor(`gearmand to accept on port ${this.port}`, async () => {
      if (exitedEarly) throw new StopWaiting('gearmand exited')
      return acceptsOnLoopback(this.port)
    }, 10_000, 25).catch(() => false)
    if (started) return
    await this.kill()
    throw new Error(`gearmand did not start on port ${this.port}:\n${this.log()}`)
  }

  /** Kills this gearmand by its PID and waits for it to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child
    if (!child) return
    child.kill(signal)
    const timedOut = await Promise.race([this.exited.then(() => false), sleep(5_000).then(() => true)])
    if (timedOut) {
      child.kill('SIGKILL')
      await this.exited
    }
    this.child = undefined
  }

  async stop(): Promise<void> {
    await this.kill('SIGTERM')
    rmSync(this.dir, {recursive: true, force: true})
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'gearmand.log'), 'utf8')
    } catch {
      return '(no log)'
    }
  }
}
