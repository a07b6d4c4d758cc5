import {setTimeout as sleep} from 'node:timers/promises'
import {spawn, type ChildProcess} from 'node:child_process'
import {readFileSync, statSync} from 'node:fs'
import {afterAll, afterEach, describe, expect, it} from 'vitest'
import {
  blockedSignals,
  findProcesses,
  formatIdentity,
  identityOf,
  isAlive,
  parseIdentity,
  parseStat,
  readPidFile,
  readProcessStat,
  selfIdentity,
  terminate,
  writePidFile,
} from '../../../src/host/proc.js'
import {tempDir} from '../../helpers/tmp.js'
import {uniqueSuffix} from '../../helpers/unique.js'

const dir = tempDir('lbaas-proc-')
afterAll(() => dir.cleanup())

const children: ChildProcess[] = []
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
})

/** A node child that runs `code`; `marker` lands in its argv so findProcesses can see it. */
function startChild(code: string, marker = uniqueSuffix()): ChildProcess {
  const child = spawn(process.execPath, ['-e', code, marker], {stdio: 'ignore'})
  children.push(child)
  return child
}


/** Starts a child that says `ready` on stdout once `code` has run, and waits for it. */
async function startReadyChild(code: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['-e', `${code}; process.stdout.write('ready')`], {stdio: ['ignore', 'pipe', 'ignore']})
  children.push(child)
  await new Promise<void>((resolve, reject) => {
    child.stdout!.once('data', () => resolve())
    child.once('exit', () => reject(new Error('child exited before it was ready')))
  })
  return child
}

describe('parseStat', () => {
  it('reads state, ppid and start time even when comm holds spaces and parentheses', () => {
    const fields = Array.from({length: 50}, (_, index) => String(index + 3))
    fields[0] = 'S'
    fields[1] = '77'
    fields[19] = '123456'
    const stat = parseStat(`4242 (my (odd) name) ${fields.join(' ')}`)
    expect(stat).toEqual({pid: 4242, comm: 'my (odd) name', state: 'S', ppid: 77, startTime: 123456})
  })

  it('rejects garbage', () => {
    expect(parseStat('')).toBeUndefined()
    expect(parseStat('12 no parens S 1')).toBeUndefined()
  })

  it('agrees with the kernel about this process', () => {
    const stat = readProcessStat(process.pid)!
    expect(stat.pid).toBe(process.pid)
    expect(stat.ppid).toBe(process.ppid)
    expect(['R', 'S']).toContain(stat.state)
    expect(selfIdentity()).toEqual({pid: process.pid, startTime: stat.startTime})
  })
})

describe('liveness', () => {
  it('treats a missing process as dead', () => {
    expect(isAlive(2 ** 22 + 12345)).toBe(false)
    expect(identityOf(-1)).toBeUndefined()
  })

  it('treats a recycled PID (other start time) as not ours', () => {
    const me = selfIdentity()
    expect(isAlive(me.pid, me.startTime)).toBe(true)
    expect(isAlive(me.pid, me.startTime + 1)).toBe(false)
  })

  it('treats a zombie as dead', async () => {
    // Node reaps its children from the event loop; a busy-waiting parent leaves the child a
    // zombie until the loop runs again. `true` exits at once, even on a loaded machine.
    const child = spawn('true', [], {stdio: 'ignore'})
    children.push(child)
    const pid = child.pid!
    const until = Date.now() + 15_000
    let sawZombie = false
    while (Date.now() < until && !sawZombie) {
      const stat = readProcessStat(pid)
      if (stat?.state === 'Z') sawZombie = true
    }
    expect(sawZombie).toBe(true)
    expect(isAlive(pid)).toBe(false)
  })
})

describe('pid files', () => {
  it('round-trips PID and start time atomically with mode 0600', () => {
    const path = `${dir.path}/sub/x.pid`
    writePidFile(path, {pid: 1234, startTime: 987})
    expect(readFileSync(path, 'utf8')).toBe(formatIdentity({pid: 1234, startTime: 987}))
    expect(readPidFile(path)).toEqual({pid: 1234, startTime: 987})
    expect(statSync(path).mode & 0o777).toBe(0o600)
    expect(statSync(`${dir.path}/sub`).mode & 0o777).toBe(0o700)
  })

  it('reads HAProxy-style pid files and rejects garbage', () => {
    expect(parseIdentity('4711\n')).toEqual({pid: 4711})
    expect(parseIdentity('0')).toBeUndefined()
    expect(parseIdentity('12 x')).toBeUndefined()
    expect(readPidFile(`${dir.path}/missing.pid`)).toBeUndefined()
  })
})

describe('terminate', () => {
  it('stops a process with SIGTERM and waits until it is gone', async () => {
    const child = startChild('setInterval(() => {}, 1000)')
    await sleep(100)
    expect(await terminate(child.pid!, {graceMs: 3_000})).toBe('exited')
    expect(isAlive(child.pid!)).toBe(false)
  })

  it('kills a process that ignores SIGTERM after the grace period', async () => {
    // The handler must be installed before the SIGTERM, however slowly a loaded machine starts node.
    const child = await startReadyChild("process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)")
    expect(await terminate(child.pid!, {graceMs: 200})).toBe('killed')
    expect(isAlive(child.pid!)).toBe(false)
  })

  it('is idempotent and never signals a process with another start time', async () => {
    const child = startChild('setInterval(() => {}, 1000)')
    await sleep(50)
    const identity = identityOf(child.pid!)!
    expect(await terminate(child.pid!, {startTime: identity.startTime + 1})).toBe('not-running')
    expect(isAlive(child.pid!)).toBe(true)
    expect(await terminate(child.pid!, {startTime: identity.startTime})).toBe('exited')
    expect(await terminate(child.pid!, {startTime: identity.startTime})).toBe('not-running')
  })

  it('refuses PID 1 and itself', async () => {
    await expect(terminate(1)).rejects.toMatchObject({code: 'internal_error'})
    await expect(terminate(process.pid)).rejects.toMatchObject({code: 'internal_error'})
  })
})

describe('findProcesses and blockedSignals', () => {
  it('finds a process by a word of its command line', async () => {
    const marker = `lbt-marker-${uniqueSuffix()}`
    const child = startChild('setInterval(() => {}, 1000)', marker)
    await sleep(50)
    const found = findProcesses((argv) => argv.includes(marker))
    expect(found.map((entry) => entry.pid)).toEqual([child.pid])
    expect(found[0].argv[0]).toBe(process.execPath)
    expect(findProcesses((argv) => argv.includes(`${marker}-none`))).toEqual([])
  })

  it('reports the signals a process blocks', async () => {
    expect(blockedSignals(2 ** 22 + 12345)).toBeUndefined()
    const blocked = blockedSignals(process.pid)
    expect(blocked).toBeInstanceOf(Set)
    expect(blocked!.has(9)).toBe(false)
  })
})
