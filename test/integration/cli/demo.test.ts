/**
 * `lbaas demo` through the built CLI, off a TTY: it runs to completion, shows how requests
 * were spread, the failover and the recovery, prints commands that the CLI accepts, and
 * leaves nothing behind, on success and when interrupted. It refuses a subnet in use.
 */
import {spawn} from 'node:child_process'
import {execFileSync} from 'node:child_process'
import {readdirSync, readFileSync} from 'node:fs'
import {afterAll, describe, expect, it} from 'vitest'

import {BIN, cliFor, errorOf} from '../../helpers/cli.js'
import {checkCommandLine, lbaasInvocations, loadManifest} from '../../helpers/manifest.js'
import {tempDir} from '../../helpers/tmp.js'
import {claimTestCidr, uniqueSuffix} from '../../helpers/unique.js'

const dir = tempDir('lbaas-demo-')
const cli = cliFor(dir.path)
const cidr = claimTestCidr()
const subnet = `dm${uniqueSuffix(5)}`

afterAll(async () => {
  try {
    // Only needed when an assertion failed half-way: the demo cleans up after itself.
    await cli.run(['vip', 'delete', 'demo-web-vip', '--yes'])
    await cli.run(['pool', 'delete', 'demo-web', '--yes'])
    await cli.run(['pool', 'delete', 'squatter', '--yes'])
    for (const id of (await cli.run(['monitor', 'list', '-f', 'value', '-c', 'id'])).stdout.split('\n').filter(Boolean)) {
      await cli.run(['monitor', 'delete', id, '--yes'])
    }
    await cli.run(['lab', 'down', '--subnet', subnet, '--yes'])
    await cli.run(['subnet', 'delete', subnet, '--yes'])
  } finally {
    cidr.release()
    dir.cleanup()
  }
})

/** Namespaces and links a traced run created (LBAAS_DEBUG=1 prints every command). */
function hostNamesIn(trace: string): string[] {
  const names = trace.match(/\b(lbaas-[0-9a-f-]{36}|lab-[0-9a-f]{8}-\d+|lbbr-[0-9a-f]{8}|lbv[0-9a-f]{11}|lbl[0-9a-f]{8}\d+)\b/g) ?? []
  return [...new Set(names)]
}

function leftOnHost(names: readonly string[]): string[] {
  const namespaces = execFileSync('ip', ['netns', 'list'], {encoding: 'utf8'})
  const links = execFileSync('ip', ['-o', 'link', 'show'], {encoding: 'utf8'})
  const left = names.filter((name) => new RegExp(`(^|[\\s:@])${name}([\\s:@]|$)`, 'm').test(`${namespaces}\n${links}`))
  // No process (HAProxy, lab backend) runs from this test's run dir.
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(dir.path)) left.push(`process ${pid}`)
    } catch {
      // gone meanwhile
    }
  }
  return left
}

async function expectEmptyState(): Promise<void> {
  for (const topic of ['vip', 'pool', 'monitor', 'subnet']) {
    expect(await cli.json([topic, 'list', '--json']), `${topic} list`).toEqual([])
  }
  expect(await cli.json(['lab', 'status', '--json'])).toEqual([])
}

interface TableRow {
  backend: string
  health: string
  requests: number
}

/** The spread table printed under `title`. */
function spreadTable(stdout: string, title: string): TableRow[] {
  const start = stdout.indexOf(title)
  expect(start, `a table titled ${title}`).toBeGreaterThanOrEqual(0)
  const lines = stdout.slice(start).split('\n')
  const end = lines.findIndex((line) => line.includes('└'))
  return lines
    .slice(0, end)
    .filter((line) => line.includes(`│ ${subnet}-`))
    .map((line) => {
      const cells = line.split('│').map((cell) => cell.trim())
      return {backend: cells[1], health: cells[3], requests: Number(cells[4])}
    })
}

describe('lbaas demo', () => {
  it('refuses a lab subnet that pools use, changing nothing', async () => {
    await cli.value(['subnet', 'create', subnet, '--cidr', cidr.cidr])
    await cli.value(['pool', 'create', '--name', 'squatter', '--subnet', subnet, '--protocol', 'TCP', '--lb-method', 'ROUND_ROBIN'])
    const before = cli.stateContent()
    const result = await cli.run(['demo', '--subnet', subnet, '--json'])
    expect(result.exitCode).toBe(4)
    expect(errorOf(result).code).toBe('in_use')
    expect(cli.stateContent()).toBe(before)
    const plain = await cli.run(['demo', '--subnet', subnet])
    expect(plain.stderr).toMatch(/^hint: .*lbaas demo --subnet NAME --cidr CIDR/m)
    await cli.value(['pool', 'delete', 'squatter', '--yes'])
    await cli.value(['subnet', 'delete', subnet, '--yes'])
  })

  it('runs the workflow end to end, shows the spread and the failover, prints working commands, and cleans up', async () => {
    const result = await cli.run(['demo', '--subnet', subnet, '--cidr', cidr.cidr], {env: {LBAAS_DEBUG: '1'}})
    expect(result.stderr).not.toMatch(/^(error|warning):/m)
    expect(result.exitCode).toBe(0)
    const {stdout} = result
    const victim = `${subnet}-2`

    // The steps, in the order an operator walks them.
    const headings = ['1. Lab', '2. Pool demo-web', '3. Health monitor', '4. VIP demo-web-vip', '5. 60 requests', `6. ${victim}`, `7. ${victim}`, '8. Cleanup']
    const positions = headings.map((heading) => stdout.indexOf(heading))
    expect(positions.every((position) => position >= 0), stdout).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)

    const healthy = spreadTable(stdout, 'all backends healthy: 60 requests')
    expect(healthy.map((row) => row.backend)).toEqual([`${subnet}-1`, `${subnet}-2`, `${subnet}-3`])
    expect(healthy.every((row) => row.health === 'ONLINE' && row.requests > 0)).toBe(true)
    expect(healthy.reduce((sum, row) => sum + row.requests, 0)).toBe(60)

    const failing = spreadTable(stdout, `${victim} failing its health check: 60 requests`)
    expect(failing.find((row) => row.backend === victim)).toEqual({backend: victim, health: 'OFFLINE', requests: 0})
    expect(failing.filter((row) => row.backend !== victim).reduce((sum, row) => sum + row.requests, 0)).toBe(60)
    expect(stdout).toMatch(new RegExp(`took ${victim} out after [\\d.]+ s: 2 failed checks 1 s apart \\(expected: at most delay × max_retries = 1 s × 2 = 2 s\\)`))

    const healed = spreadTable(stdout, `${victim} healed: 60 requests`)
    expect(healed.find((row) => row.backend === victim)?.health).toBe('ONLINE')
    expect(healed.find((row) => row.backend === victim)?.requests).toBeGreaterThan(0)

    // The commands: every lbaas line is accepted by the CLI, and they cover the workflow and the cleanup.
    const script = stdout.slice(stdout.indexOf('ready to paste')).split('\n').filter((line) => line.startsWith('  ')).map((line) => line.trim())
    const manifest = loadManifest()
    const invocations = script.flatMap((line) => lbaasInvocations(line))
    expect(invocations.flatMap((argv) => checkCommandLine(manifest, argv))).toEqual([])
    expect(invocations.map((argv) => argv.slice(0, 2).join(' '))).toEqual([
      'lab up', 'pool create', 'member create', 'member create', 'member create', 'monitor create', 'monitor associate', 'vip create',
      'status demo-web', 'lab fail', 'status demo-web', 'lab heal', 'vip delete', 'pool delete', 'monitor delete', 'lab down',
    ])
    expect(script).toContain(`lbaas lab up --subnet ${subnet} --cidr ${cidr.cidr}`)
    expect(script).toContain(`lbaas lab down --subnet ${subnet} --yes`)
    expect(stdout).toContain('Everything the demo created has been removed.')

    // Nothing left: not in the state file, not on the host.
    await expectEmptyState()
    const created = hostNamesIn(result.stderr)
    expect(created.filter((name) => name.startsWith('lbaas-')).length).toBe(1)
    expect(created.filter((name) => name.startsWith('lab-')).length).toBe(3)
    expect(leftOnHost(created)).toEqual([])
  })

  it('cleans up what it created when interrupted with Ctrl-C', async () => {
    const child = spawn(process.execPath, [BIN, 'demo', '--subnet', subnet, '--cidr', cidr.cidr], {
      env: {...process.env, ...cli.env, NO_COLOR: '1', LBAAS_DEBUG: '1'},
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let interrupted = false
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      // Interrupt once, when the pool is deployed: the VIP, pool, monitor and lab all exist.
      if (!interrupted && stdout.includes('5. 60 requests')) interrupted = child.kill('SIGINT')
    })
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const exitCode = await new Promise<number | null>((resolve) => child.once('exit', resolve))
    expect(stderr).toContain('interrupted: stopping and cleaning up')
    expect(exitCode).toBe(2)
    expect(stdout).toContain('The demo stopped; removing what it created')
    await expectEmptyState()
    const created = hostNamesIn(stderr)
    expect(created.some((name) => name.startsWith('lbaas-'))).toBe(true)
    expect(leftOnHost(created)).toEqual([])
  })
})
