/**
 * Issue 6, part 5, the CLI side: a whole workflow whose free-text fields (pool and VIP
 * names and descriptions) carry a marker wrapped in shell syntax, path traversal and
 * comment characters, run with `LBAAS_DEBUG=1` so every program lbaas starts is traced.
 * Then: every file, directory and socket under the run dir and the state file are private
 * (0600/0700, owned by root); HAProxy's workers run without root and without capabilities;
 * every argv starts with a program lbaas is meant to run and names no path outside its
 * own directories; the marker reaches no argv, no `ip -batch` script and no file on the
 * host (only the state file holds it), and the shell syntax ran nothing.
 */
import {existsSync, lstatSync, readdirSync, readFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Member, Pool, Vip} from '../../../src/domain/types.js'
import {runningMaster} from '../../../src/host/haproxy-process.js'
import {poolPaths} from '../../../src/host/names.js'
import {tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'
import {auditArgv, programOf, tracedCommands, type TracedCommand} from './argv-audit.js'

const world = trafficLab('sec')
const MARK = `MK${world.suffix}QZ`
const PWN = `/tmp/lbt-pwn-${world.suffix}`
const HOSTILE = `${MARK} ;$(touch ${PWN}) \`touch ${PWN}\` | true # ../../etc/passwd '" \\ %n`
const PROJECT = fileURLToPath(new URL('../../..', import.meta.url)).replace(/\/$/, '')
const PROGRAMS = ['ip', 'haproxy', 'arping', 'openssl', process.execPath, 'gearmand', 'gearman']
let lab: LabInfo
let pool: Pool
let vip: Vip
const commands: TracedCommand[] = []

async function traced<T = unknown>(args: string[]): Promise<T> {
  const result = await world.cli.run(args, {env: {LBAAS_DEBUG: '1'}})
  if (result.exitCode !== 0) throw new Error(`lbaas ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}${result.stdout}`)
  commands.push(...tracedCommands(result.stderr))
  return (args.includes('--json') ? JSON.parse(result.stdout) : result.stdout) as T
}

/** Every entry under `dir`, depth first. */
function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = `${dir}/${name}`
    return lstatSync(path).isDirectory() ? [path, ...walk(path)] : [path]
  })
}

function procStatus(pid: number): Record<string, string> {
  return Object.fromEntries(
    readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]),
  )
}

beforeAll(async () => {
  lab = await world.lab(2)
  pool = await traced<Pool>(['pool', 'create', '--name', HOSTILE, '--description', HOSTILE, '--subnet', lab.subnet, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '--json'])
  world.poolIds.add(pool.id)
  const members: Member[] = []
  for (const n of [1, 2]) members.push(await traced<Member>(['member', 'create', pool.id, '--address', lab.backend(n).address, '--protocol-port', '8000', '--json']))
  const monitor = await traced<{id: string}>(['monitor', 'create', '--type', 'HTTP', '--delay', '1', '--timeout', '1', '--max-retries', '1', '--url-path', '/healthz', '--json'])
  await traced(['monitor', 'associate', monitor.id, pool.id, '--json'])
  vip = await traced<Vip>([
    'vip', 'create', pool.id, '--name', `${HOSTILE} vip`, '--description', HOSTILE, '--protocol', 'HTTP', '--protocol-port', '80',
    '--subnet', lab.subnet, '--address', `${lab.base}.2`, '--session-persistence', 'HTTP_COOKIE', '--json',
  ])
  await traced(['member', 'update', members[0].id, '--weight', '3', '--json'])
  await traced(['vip', 'update', vip.id, '--connection-limit', '100', '--json'])
  await traced(['pool', 'update', pool.id, '--description', `${HOSTILE} 2`, '--json'])
  await traced(['status', pool.id, '--json'])
  await traced(['pool', 'stats', pool.id, '--json'])
  await traced(['lab', 'stop', lab.backend(2).name, '--json'])
  await traced(['lab', 'start', lab.backend(2).name, '--json'])
  await traced(['sync', '--json'])
  await traced(['doctor', '--json']).catch(() => undefined)
})

afterAll(async () => {
  await world.cleanup()
})

describe('a deployed pool and its state file are private to root', () => {
  it('serves (the hostile names changed nothing on the data path)', async () => {
    expect((await tally(`${lab.base}.2`, 80, 4)).ok).toBe(4)
  })

  it('every directory under the run dir is 0700, every file and socket 0600 or stricter, all owned by root', () => {
    const entries = [world.runDir, ...walk(world.runDir)]
    expect(entries.some((path) => path.endsWith('/stats.sock'))).toBe(true)
    const loose = entries
      .map((path) => ({path, stat: lstatSync(path)}))
      .filter(({stat}) => (stat.mode & 0o077) !== 0 || stat.uid !== 0 || stat.isSymbolicLink())
      .map(({path, stat}) => `${path.slice(world.runDir.length)} mode ${(stat.mode & 0o7777).toString(8)} uid ${stat.uid}`)
    expect(loose).toEqual([])
  })

  it('the state file is 0600 in a 0700 directory', () => {
    expect(lstatSync(world.cli.statePath).mode & 0o777).toBe(0o600)
    expect(lstatSync(world.dir).mode & 0o077).toBe(0)
  })

  it("HAProxy's master keeps root, its workers run as an unprivileged user with no capabilities", async () => {
    const master = runningMaster(poolPaths(world.runDir, pool.id))!
    const proc = await world.proc(pool.id)
    expect(proc.workers.length).toBeGreaterThan(0)
    expect(procStatus(master).Uid.split(/\s+/)[0]).toBe('0')
    for (const worker of proc.workers) {
      const status = procStatus(worker.pid)
      expect(status.PPid).toBe(String(master))
      for (const field of ['Uid', 'Gid']) {
        const ids = status[field].split(/\s+/)
        expect(ids).toHaveLength(4)
        for (const id of ids) expect(id).not.toBe('0')
      }
      expect(status.Groups.split(/\s+/).filter(Boolean)).not.toContain('0')
      expect(status.CapEff).toMatch(/^0+$/)
      expect(status.CapPrm).toMatch(/^0+$/)
    }
  })
})

describe('what lbaas ran', () => {
  it('traced every step of the workflow', () => {
    const programs = new Set(commands.map((command) => programOf(command.argv).program))
    for (const expected of ['ip', 'haproxy', process.execPath]) expect(programs).toContain(expected)
    expect(commands.some(({argv}) => argv.includes('-c') && programOf(argv).program === 'haproxy')).toBe(true)
    expect(commands.length).toBeGreaterThan(10)
  })

  it('every argv starts with a known program and names no path outside its own directories', () => {
    expect(auditArgv(commands, {programs: PROGRAMS, pathRoots: [world.dir, process.execPath, `${PROJECT}/dist`]})).toEqual([])
  })

  it('the marker of the free-text fields is in no argv, no ip -batch script, and no file but the state file', () => {
    const leaks = commands.filter(({argv, input}) => argv.some((arg) => arg.includes(MARK)) || input.includes(MARK))
    expect(leaks).toEqual([])
    const files = walk(world.runDir).filter((path) => lstatSync(path).isFile())
    expect(files.some((path) => path.endsWith('/haproxy.cfg'))).toBe(true)
    expect(files.filter((path) => readFileSync(path).includes(MARK))).toEqual([])
    // It is there, in the state file, so the search above would have found it.
    expect(readFileSync(world.cli.statePath).includes(MARK)).toBe(true)
  })

  it('the shell syntax in the names ran nothing', () => {
    expect(existsSync(PWN)).toBe(false)
  })

  it('deleting it all runs only known programs too, and leaves nothing readable behind', async () => {
    const before = commands.length
    await traced(['vip', 'delete', vip.id, '--yes', '--json'])
    await traced(['pool', 'delete', pool.id, '--yes', '--json'])
    const deletes = commands.slice(before)
    expect(deletes.length).toBeGreaterThan(0)
    expect(auditArgv(deletes, {programs: PROGRAMS, pathRoots: [world.dir]})).toEqual([])
    expect(deletes.filter(({argv, input}) => argv.some((arg) => arg.includes(MARK)) || input.includes(MARK))).toEqual([])
    expect(existsSync(poolPaths(world.runDir, pool.id).dir)).toBe(false)
    expect(existsSync(PWN)).toBe(false)
  })
})
