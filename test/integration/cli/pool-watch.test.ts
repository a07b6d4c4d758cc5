/**
 * `lbaas pool stats POOL --watch` in a real terminal (tmux): a members table redrawn in place
 * with live status and requests/s while traffic flows through the VIP, until Ctrl-C, which
 * ends it with exit 0. Off a terminal, --json prints one reading per line.
 */
import {spawn} from 'node:child_process'
import {request} from 'node:http'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, cliFor} from '../../helpers/cli.js'
import {TmuxSession} from '../../helpers/tmux.js'
import {tempDir} from '../../helpers/tmp.js'
import {claimTestCidr, uniqueSuffix} from '../../helpers/unique.js'

const dir = tempDir('lbaas-watch-')
const cli = cliFor(dir.path)
const cidr = claimTestCidr()
const lab = `wt${uniqueSuffix(5)}`
const sessions: TmuxSession[] = []
let vipAddress = ''

beforeAll(async () => {
  await cli.value(['lab', 'up', '--subnet', lab, '--cidr', cidr.cidr, '--backends', '2'])
  await cli.value(['pool', 'create', '--name', 'watched', '--subnet', lab, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN'])
  for (const host of [11, 12]) await cli.value(['member', 'create', 'watched', '--address', `${cidr.base}.${host}`, '--protocol-port', '8000'])
  vipAddress = await cli.value(['vip', 'create', 'watched', '--name', 'watched-vip', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', lab, '-f', 'value', '-c', 'address'])
})

afterAll(async () => {
  try {
    for (const session of sessions) session.kill()
    await cli.run(['vip', 'delete', 'watched-vip', '--yes'])
    await cli.run(['pool', 'delete', 'watched', '--yes'])
    await cli.run(['lab', 'down', '--subnet', lab, '--yes'])
  } finally {
    cidr.release()
    dir.cleanup()
  }
})

function get(host: string): Promise<void> {
  return new Promise((resolve) => {
    const req = request({host, port: 80, path: '/', timeout: 2_000, agent: false}, (res) => {
      res.resume()
      res.on('end', resolve)
    })
    req.on('timeout', () => req.destroy())
    req.on('error', () => resolve())
    req.end()
  })
}

describe('pool stats --watch', () => {
  it('redraws the members table in place with live requests/s until Ctrl-C', async () => {
    const term = TmuxSession.start(`${process.execPath} ${BIN} pool stats watched --watch --interval 0.5`, cli.env, {width: 140, height: 30})
    sessions.push(term)
    let screen = await term.waitFor(/req\/s[\s\S]*└/)
    expect(screen).toMatch(/pool watched \(HTTP ROUND_ROBIN\)\s+NO_MONITOR\s+VIP [\d.]+:80\s+every 0\.5 s, Ctrl-C to stop/)
    for (const host of [11, 12]) expect(screen).toMatch(new RegExp(`│ ${cidr.base.replaceAll('.', '\\.')}\\.${host}:8000 │ 1\\s+│ NO_MONITOR │`))

    // Traffic through the VIP (bounded) until a frame shows a non-zero rate for each member.
    const busy = /:8000 │[^\n]*│ [1-9]\d*\.\d\s+│\n[^\n]*:8000 │[^\n]*│ [1-9]\d*\.\d\s+│/
    let seen = false
    for (let round = 0; round < 100 && !seen; round++) {
      await Promise.all(Array.from({length: 10}, () => get(vipAddress)))
      seen = busy.test(term.screen())
    }
    expect(seen, term.screen()).toBe(true)

    // One frame on the screen, redrawn: the header appears once, the clock moves on.
    const first = term.screen()
    const clock = /Ctrl-C to stop\s+(\d\d:\d\d:\d\d)/
    screen = await term.waitFor((() => {
      const before = clock.exec(first)?.[1]
      return new RegExp(`Ctrl-C to stop\\s+(?!${before})\\d\\d:\\d\\d:\\d\\d`)
    })())
    expect(screen.match(/Ctrl-C to stop/g)).toHaveLength(1)

    term.keys('C-c')
    screen = await term.waitFor('EXIT=')
    expect(screen).toMatch(/^EXIT=0$/m)
    expect(screen.match(/Ctrl-C to stop/g)).toHaveLength(1)
  })

  it('prints one JSON reading per line off a terminal, and stops on SIGINT with exit 0', async () => {
    const child = spawn(process.execPath, [BIN, 'pool', 'stats', 'watched', '--watch', '--interval', '0.5', '--json'], {
      env: {...process.env, ...cli.env},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let interrupted = false
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      if (!interrupted && stdout.split('\n').length > 3) interrupted = child.kill('SIGINT')
    })
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(exitCode).toBe(0)
    const readings = stdout.trim().split('\n').map((line) => JSON.parse(line) as {pool: {name: string}; live: boolean; members: {address: string}[]})
    expect(readings.length).toBeGreaterThanOrEqual(3)
    for (const reading of readings) {
      expect(reading.pool.name).toBe('watched')
      expect(reading.live).toBe(true)
      expect(reading.members.map((member) => member.address)).toEqual([`${cidr.base}.11`, `${cidr.base}.12`])
    }
  })

  it('lbaas status: the tree in colour on a terminal, plain text otherwise', async () => {
    const plain = await cli.run(['status', 'watched'], {env: {NO_COLOR: undefined}})
    expect(plain.exitCode).toBe(0)
    expect(plain.stdout).toMatch(/^vip watched-vip [\d.]+:80 {2}ACTIVE\n└─ pool watched \(HTTP\) {2}ACTIVE NO_MONITOR/)
    expect(plain.stdout).not.toContain('\u001B[')
    const term = TmuxSession.start(`${process.execPath} ${BIN} status watched`, cli.env)
    sessions.push(term)
    await term.waitFor('EXIT=0')
    // ACTIVE in green: tmux reports the colour as an SGR sequence before the word.
    expect(term.screen({escapes: true})).toMatch(/\u001B\[32m\s*ACTIVE/)
  })

  it('refuses --interval without --watch, and an interval out of range', async () => {
    expect((await cli.run(['pool', 'stats', 'watched', '--interval', '1'])).exitCode).toBe(2)
    const result = await cli.run(['pool', 'stats', 'watched', '--watch', '--interval', '0.1', '--json'])
    expect(result.exitCode).toBe(2)
    expect(JSON.parse(result.stdout).error.code).toBe('invalid_interval')
  })
})
