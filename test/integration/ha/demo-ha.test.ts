/**
 * `lbaas demo --ha` through the built CLI on a claimed /24: a private gearmand, two real
 * `serve-worker` agents, real HAProxy and keepalived in two peer namespaces. The failover
 * really happens (the MASTER's HAProxy killed, the VIP answering from the other peer, the
 * first peer back as BACKUP), the printed commands are ones the CLI accepts, and nothing is
 * left: not in the state file, not on the host (namespaces, processes of this run dir).
 */
import {execFileSync} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'

import {cliFor} from '../../helpers/cli.js'
import {checkCommandLine, lbaasInvocations, loadManifest} from '../../helpers/manifest.js'
import {tempDir} from '../../helpers/tmp.js'
import {claimTestCidr, uniqueSuffix} from '../../helpers/unique.js'

const dir = tempDir('lbaas-demo-ha-')
const cli = cliFor(dir.path)
const cidr = claimTestCidr()
const subnet = `dh${uniqueSuffix(5)}`

interface Peer {
  role: 'a' | 'b'
  agent: string
  address: string
  state: string | null
}

interface HaDemoReport {
  pool_id: string
  vip: {address: string}
  master_before: Peer
  master_after: Peer
  killed_pids: number[]
  failover_seconds: number
  recovery_seconds: number
  peers_after_recovery: Peer[]
  spreads: {title: string; sent: number; failed: number; rows: {requests: number}[]}[]
  commands: string[]
}

/** Processes whose command line names this test's directory (gearmand, agents, HAProxy, keepalived, lab backends). */
function processesOfThisRun(): string[] {
  const found: string[] = []
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
      if (argv.includes(dir.path)) found.push(`${pid}: ${argv.replaceAll('\0', ' ')}`)
    } catch {
      // gone meanwhile
    }
  }
  return found
}

afterAll(async () => {
  try {
    // Only needed when an assertion failed half-way: the demo cleans up after itself.
    await cli.run(['vip', 'delete', 'demo-ha-vip', '--yes'])
    await cli.run(['pool', 'delete', 'demo-ha', '--yes'])
    await cli.run(['lab', 'down', '--subnet', subnet, '--yes'])
  } finally {
    cidr.release()
    dir.cleanup()
  }
}, 60_000)

describe('lbaas demo --ha', () => {
  it('refuses --keep with --ha (exit 2), changing nothing', async () => {
    const result = await cli.run(['demo', '--ha', '--keep', '--subnet', subnet, '--cidr', cidr.cidr])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('--ha')
    expect(await cli.json(['subnet', 'list', '--json'])).toEqual([])
  })

  it('fails over from the MASTER whose HAProxy was killed, brings it back as BACKUP, and cleans up', async () => {
    const result = await cli.run(['demo', '--ha', '--subnet', subnet, '--cidr', cidr.cidr, '--requests', '20', '--json'])
    expect(result.stderr).not.toMatch(/^(error|warning):/m)
    expect(result.exitCode, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout) as HaDemoReport

    // The failover happened: the other peer holds the VIP, the killed one came back as BACKUP.
    expect(report.master_before.state).toBe('MASTER')
    expect(report.master_after.role).not.toBe(report.master_before.role)
    expect(report.master_after.state).toBe('MASTER')
    expect(report.killed_pids.length).toBeGreaterThan(0)
    expect(report.failover_seconds).toBeGreaterThan(0)
    expect(report.recovery_seconds).toBeGreaterThanOrEqual(report.failover_seconds)
    const states = Object.fromEntries(report.peers_after_recovery.map((peer) => [peer.role, peer.state]))
    expect(states).toEqual({[report.master_before.role]: 'BACKUP', [report.master_after.role]: 'MASTER'})
    // Traffic through the VIP before and after the crash: every request answered by a backend.
    expect(report.spreads.map((spread) => [spread.sent, spread.failed])).toEqual([[20, 0], [20, 0]])
    for (const spread of report.spreads) expect(spread.rows.reduce((sum, row) => sum + row.requests, 0)).toBe(20)

    // The commands it ran are ones the CLI accepts, in the story's order.
    const manifest = loadManifest()
    // A daemon's line ends with ` &` (the script starts it in the background).
    const invocations = report.commands.flatMap((line) => lbaasInvocations(line.replace(/ &$/, '')))
    expect(invocations.flatMap((argv) => checkCommandLine(manifest, argv))).toEqual([])
    expect(invocations.map((argv) => argv.slice(0, 2).join(' '))).toEqual([
      'lab up', 'serve-worker --server', 'serve-worker --server', 'pool create', 'member create', 'member create', 'vip create',
      'pool show', 'pool show', 'pool show', 'vip delete', 'pool delete', 'lab down',
    ])
    expect(report.commands).toContain(
      `lbaas pool create --name demo-ha --subnet ${subnet} --protocol HTTP --lb-method ROUND_ROBIN --ha active-standby --agents demo-agent-a,demo-agent-b`,
    )
    expect(report.commands.some((line) => /^kill -KILL \d+/.test(line))).toBe(true)

    // Nothing left: state, peer namespaces, processes started from this run dir, the agents' dirs.
    for (const topic of ['vip', 'pool', 'subnet']) expect(await cli.json([topic, 'list', '--json']), `${topic} list`).toEqual([])
    expect(await cli.json(['lab', 'status', '--json'])).toEqual([])
    const namespaces = execFileSync('ip', ['netns', 'list'], {encoding: 'utf8'})
    expect(namespaces).not.toContain(report.pool_id)
    expect(processesOfThisRun()).toEqual([])
    expect(existsSync(join(dir.path, 'run', 'demo-ha'))).toBe(false)
  }, 120_000)
})
