/**
 * Pool locks between separate processes (each a vite-node child running
 * test/fixtures/host/lock-holder.ts).
 */
import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {afterAll, describe, expect, it} from 'vitest'
import {acquirePoolLock} from '../../../src/host/lock.js'
import {poolLockPath} from '../../../src/host/names.js'
import {isAlive, terminate} from '../../../src/host/proc.js'
import {tempDir} from '../../helpers/tmp.js'
import {waitFor} from '../../helpers/wait.js'

const POOL = '0e9d8c7b-6a5f-4e3d-9c2b-1a0f9e8d7c6b'
const OTHER_POOL = '1e9d8c7b-6a5f-4e3d-9c2b-1a0f9e8d7c6b'
const viteNode = fileURLToPath(new URL('../../../node_modules/.bin/vite-node', import.meta.url))
const holderScript = fileURLToPath(new URL('../../fixtures/host/lock-holder.ts', import.meta.url))
const dir = tempDir('lbaas-lockit-')
const started: ChildProcess[] = []

afterAll(async () => {
  for (const child of started) {
    if (child.pid && isAlive(child.pid)) await terminate(child.pid, {graceMs: 1_000})
  }
  dir.cleanup()
})

interface Outcome {
  code: number | null
  stdout: string
}

function holder(runDir: string, pool: string, name: string, holdMs: number, timeoutMs: number, events: string): {child: ChildProcess; done: Promise<Outcome>} {
  const child = spawn(viteNode, [holderScript, runDir, pool, name, String(holdMs), String(timeoutMs), events], {stdio: ['ignore', 'pipe', 'inherit']})
  started.push(child)
  let stdout = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  const done = new Promise<Outcome>((resolve) => child.once('exit', (code) => resolve({code, stdout})))
  return {child, done}
}

async function waitForLine(file: string, pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const text = () => (existsSync(file) ? readFileSync(file, 'utf8') : '')
  return waitFor(`a line matching ${pattern} in ${file}`, () => text().split('\n').find((candidate) => pattern.test(candidate)), timeoutMs, 20).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(text())}`)
  })
}

describe('pool lock across processes', () => {
  it('serialises two processes on one pool', async () => {
    const runDir = `${dir.path}/serial`
    const events = `${dir.path}/serial.events`
    writeFileSync(events, '')
    const a = holder(runDir, POOL, 'a', 700, 30_000, events)
    const b = holder(runDir, POOL, 'b', 700, 30_000, events)
    const outcomes = await Promise.all([a.done, b.done])
    expect(outcomes.map((outcome) => outcome.code)).toEqual([0, 0])
    const lines = readFileSync(events, 'utf8').trim().split('\n').map((line) => line.split(' ').slice(0, 2).join(' '))
    expect(lines).toHaveLength(4)
    const first = lines[0].split(' ')[0]
    const second = first === 'a' ? 'b' : 'a'
    expect(lines).toEqual([`${first} acquired`, `${first} released`, `${second} acquired`, `${second} released`])
    expect(existsSync(poolLockPath(runDir, POOL))).toBe(false)
  })

  it('times out with lock_held naming the holder, while another pool stays free', async () => {
    const runDir = `${dir.path}/busy`
    const events = `${dir.path}/busy.events`
    writeFileSync(events, '')
    const long = holder(runDir, POOL, 'long', 20_000, 30_000, events)
    const acquired = await waitForLine(events, /^long acquired/)
    const holderPid = Number(acquired.split(' ')[2])

    const impatient = holder(runDir, POOL, 'impatient', 0, 300, events)
    const outcome = await impatient.done
    expect(outcome.code).toBe(4)
    const error = JSON.parse(outcome.stdout) as {code: string; message: string}
    expect(error.code).toBe('lock_held')
    expect(error.message).toContain(`process ${holderPid}`)

    const free = await acquirePoolLock(runDir, OTHER_POOL, {timeoutMs: 0})
    free.release()
    await terminate(long.child.pid!, {graceMs: 2_000})
  })

  it('breaks the lock of a process killed while holding it', async () => {
    const runDir = `${dir.path}/stale`
    const events = `${dir.path}/stale.events`
    writeFileSync(events, '')
    const victim = holder(runDir, POOL, 'victim', 60_000, 30_000, events)
    await waitForLine(events, /^victim acquired/)
    expect(existsSync(poolLockPath(runDir, POOL))).toBe(true)
    expect(await terminate(victim.child.pid!, {signal: 'SIGKILL', graceMs: 2_000})).not.toBe('not-running')
    await victim.done
    // The dead holder's lock file is still there; the next taker breaks it at once.
    expect(existsSync(poolLockPath(runDir, POOL))).toBe(true)
    const lock = await acquirePoolLock(runDir, POOL, {timeoutMs: 1_000})
    expect(readFileSync(poolLockPath(runDir, POOL), 'utf8')).toMatch(new RegExp(`^${process.pid} `))
    lock.release()
  })
})
