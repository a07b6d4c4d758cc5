/**
 * Issue 3 / SPEC §4.4: no user-supplied string reaches a configuration file unless it passed
 * validation. Hostile values (newline, `#`, spaces, quotes) in url_path, http_method,
 * cookie_name and names are refused (exit 2) with the running HAProxy, its files and its
 * reload count untouched; names and descriptions never reach the file at all; and the
 * strange-but-valid url_path that does reach it is escaped so that HAProxy sends exactly it.
 */
import {readdirSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import type {Member, Monitor} from '../../../src/domain/types.js'
import {errorOf} from '../../helpers/cli.js'
import {tally} from '../../helpers/traffic.js'
import {trafficLab, type LabInfo, type RecordingBackend} from '../../helpers/traffic-lab.js'
import {waitFor} from '../../helpers/wait.js'

const world = trafficLab('hostile')
let lab: LabInfo
let recorder: RecordingBackend
let poolId = ''
let monitor: Monitor
let vipAddress = ''

/** Every regular file under the run dir that contains `marker`. */
function filesContaining(marker: string): string[] {
  const found: string[] = []
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry)
      const stat = statSync(path)
      if (stat.isDirectory()) walk(path)
      else if (stat.isFile() && readFileSync(path, 'latin1').includes(marker)) found.push(path)
    }
  }
  walk(world.runDir)
  return found
}

async function snapshot() {
  const proc = await world.proc(poolId)
  return {config: world.config(poolId), reloads: proc.master.reloads, workers: proc.workers.map((worker) => worker.pid)}
}

async function waitActive(): Promise<Member[]> {
  return waitFor('every member to be ACTIVE', async () => {
    const members = await world.cli.json<Member[]>(['member', 'list', '--pool', poolId, '--json'])
    return members.every((member) => member.status === 'ACTIVE') ? members : undefined
  })
}

beforeAll(async () => {
  lab = await world.lab(1)
  recorder = await world.recorder(lab, 1)
  poolId = (await world.pool('h', 'HTTP', 'ROUND_ROBIN', lab)).id
  await world.member(poolId, recorder.address)
  await world.member(poolId, lab.backend(1).address)
  monitor = await world.monitor(['--type', 'HTTP', '--delay', '1', '--timeout', '1', '--max-retries', '1', '--url-path', '/healthz'])
  await world.cli.json(['monitor', 'associate', monitor.id, poolId, '--json'])
  vipAddress = `${lab.base}.2`
  await world.vip(poolId, 'h-vip', 'HTTP', 80, lab, vipAddress, ['--session-persistence', 'APP_COOKIE:SESSION'])
  await waitActive()
})

afterAll(async () => {
  await world.cleanup()
})

const REFUSED: [label: string, args: () => string[], code: string][] = [
  ['url_path with a newline and a directive', () => ['monitor', 'update', monitor.id, '--url-path', '/EVIL\n    server x 198.18.0.66:80'], 'invalid_url_path'],
  ['url_path with a space', () => ['monitor', 'update', monitor.id, '--url-path', '/EVIL path'], 'invalid_url_path'],
  ['url_path with a tab', () => ['monitor', 'update', monitor.id, '--url-path', '/EVIL\tpath'], 'invalid_url_path'],
  ['url_path with a carriage return and #', () => ['monitor', 'update', monitor.id, '--url-path', '/EVIL\r# comment'], 'invalid_url_path'],
  ['url_path without a leading slash', () => ['monitor', 'update', monitor.id, '--url-path', 'EVIL'], 'invalid_url_path'],
  ['url_path with non-ASCII', () => ['monitor', 'update', monitor.id, '--url-path', '/EVILé'], 'invalid_url_path'],
  ['http_method with a space and a path', () => ['monitor', 'update', monitor.id, '--http-method', 'GET /EVIL'], 'invalid_http_method'],
  ['http_method with #', () => ['monitor', 'update', monitor.id, '--http-method', 'EVIL#X'], 'invalid_http_method'],
  ['http_method with a newline', () => ['monitor', 'update', monitor.id, '--http-method', 'GET\nEVIL'], 'invalid_http_method'],
  ['http_method in lower case', () => ['monitor', 'update', monitor.id, '--http-method', 'evil'], 'invalid_http_method'],
  ['a new monitor with a hostile url_path', () => ['monitor', 'create', '--type', 'HTTP', '--delay', '1', '--timeout', '1', '--max-retries', '1', '--url-path', '/EVIL #x'], 'invalid_url_path'],
  ['cookie_name with a space', () => ['vip', 'update', 'h-vip', '--session-persistence', 'APP_COOKIE:EVIL x'], 'invalid_cookie_name'],
  ['cookie_name with a newline', () => ['vip', 'update', 'h-vip', '--session-persistence', 'APP_COOKIE:EVIL\nstick on src'], 'invalid_cookie_name'],
  ['cookie_name with ; and =', () => ['vip', 'update', 'h-vip', '--session-persistence', 'APP_COOKIE:EVIL;a=b'], 'invalid_cookie_name'],
  ['cookie_name with a closing parenthesis', () => ['vip', 'update', 'h-vip', '--session-persistence', 'APP_COOKIE:EVIL)x'], 'invalid_cookie_name'],
  ['a cookie name for HTTP_COOKIE', () => ['vip', 'update', 'h-vip', '--session-persistence', 'HTTP_COOKIE:EVIL'], 'invalid_cookie_name'],
  ['a pool name with a newline', () => ['pool', 'update', poolId, '--name', 'EVIL\nbackend x'], 'invalid_name'],
  ['a VIP name with a newline', () => ['vip', 'update', 'h-vip', '--name', 'EVIL\n    disabled'], 'invalid_name'],
  ['a pool description with a carriage return', () => ['pool', 'update', poolId, '--description', 'EVIL\r'], 'invalid_description'],
]

describe('hostile values', () => {
  it('are refused with exit 2, leaving the running HAProxy, its files and the state file as they were', async () => {
    const before = await snapshot()
    const monitorBefore = await world.cli.json<Monitor>(['monitor', 'show', monitor.id, '--json'])
    const failures: string[] = []
    for (const [label, args, code] of REFUSED) {
      const result = await world.cli.run([...args(), '--json'])
      const error = result.exitCode === 2 ? errorOf(result) : undefined
      if (result.exitCode !== 2 || error?.code !== code) failures.push(`${label}: exit ${result.exitCode}, ${result.stdout.trim()}`)
    }
    expect(failures).toEqual([])
    expect(await snapshot()).toEqual(before)
    expect(filesContaining('EVIL')).toEqual([])
    expect(await world.cli.json<Monitor>(['monitor', 'show', monitor.id, '--json'])).toEqual(monitorBefore)
    expect((await world.cli.json<{session_persistence: unknown}>(['vip', 'show', 'h-vip', '--json'])).session_persistence).toEqual({
      type: 'APP_COOKIE',
      cookie_name: 'SESSION',
    })
  })

  it('names and descriptions with #, quotes and spaces are accepted but never reach the file (no reload)', async () => {
    const before = await snapshot()
    await world.cli.json(['pool', 'update', poolId, '--name', `web # EVIL "x" 'y' \\z`, '--description', 'EVIL # desc \\', '--json'])
    await world.cli.json(['vip', 'update', 'h-vip', '--name', 'front # EVIL', '--description', "EVIL ' desc", '--json'])
    expect(await snapshot()).toEqual(before)
    expect(filesContaining('EVIL')).toEqual([])
    const pool = await world.cli.json<{name: string}>(['pool', 'show', poolId, '--json'])
    expect(pool.name).toBe(`web # EVIL "x" 'y' \\z`)
    expect((await tally(vipAddress, 80, 4)).ok).toBe(4)
  })

  it("a valid url_path full of HAProxy's special characters is escaped, and the check sends exactly it", async () => {
    const path = `/healthz?KEEP=#x'y"z\\w$HOME%20|{}^\`~`
    const before = await snapshot()
    await world.cli.json(['monitor', 'update', monitor.id, '--url-path', path, '--http-method', 'OPTIONS', '--json'])
    const after = await snapshot()
    expect(after.reloads).toBe(before.reloads + 1)
    const escaped = path.replace(/[\\"'# ]/g, (character) => `\\${character}`)
    expect(after.config.split('\n')).toContain(`    http-check send meth OPTIONS uri ${escaped}`)

    await waitFor('the recording backend to receive the check', async () =>
      recorder.requests().some((request) => request.url === path) ? true : undefined,
    )
    const checks = recorder.requests().filter((request) => request.url.startsWith('/healthz?KEEP'))
    expect(checks.length).toBeGreaterThanOrEqual(1)
    for (const check of checks) expect(check).toEqual({method: 'OPTIONS', url: path})
    const members = await waitActive()
    expect(members.map((member) => member.operating_status)).toEqual(['ONLINE', 'ONLINE'])
  })
})
