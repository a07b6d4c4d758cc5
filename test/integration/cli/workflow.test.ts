/**
 * The operator's walk through the built CLI: subnet → pool → members → monitor → associate
 * → VIP → show/list → stats → deletes, with every output format.
 */
import Database from 'better-sqlite3'
import {afterAll, describe, expect, it} from 'vitest'

import {cliFor, errorOf} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'
import {claimTestCidr} from '../../helpers/unique.js'

const dir = tempDir('lbaas-wf-')
const cli = cliFor(dir.path)
const cidr = claimTestCidr()

afterAll(async () => {
  try {
    await cli.run(['vip', 'delete', 'web-vip', '--yes'])
    await cli.run(['pool', 'delete', 'web', '--yes'])
    await cli.run(['subnet', 'delete', 'wf', '--yes'])
  } finally {
    cidr.release()
    dir.cleanup()
  }
})

describe('the create pool → VIP workflow', () => {
  const ids: Record<string, string> = {}

  it('starts empty: pool list --json prints []', async () => {
    const result = await cli.run(['pool', 'list', '--json'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout.trim()).toBe('[]')
  })

  it('creates a subnet, a pool and two members, printing Field/Value tables', async () => {
    const subnet = await cli.run(['subnet', 'create', 'wf', '--cidr', cidr.cidr])
    expect(subnet.exitCode).toBe(0)
    expect(subnet.stdout).toMatch(/Field\s+│\s+Value/)
    expect(subnet.stdout).toContain(`${cidr.base}.1`)
    ids.pool = await cli.value(['pool', 'create', '--name', 'web', '--subnet', 'wf', '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '-f', 'value', '-c', 'id'])
    expect(ids.pool).toMatch(/^[0-9a-f-]{36}$/)
    for (const host of ['11', '12']) {
      const member = await cli.json<{status: string; weight: number}>(['member', 'create', 'web', '--address', `${cidr.base}.${host}`, '--protocol-port', '8000', '--json'])
      expect(member).toMatchObject({status: 'ACTIVE', weight: 1})
    }
  })

  it('creates an HTTP monitor and associates it', async () => {
    ids.monitor = await cli.value(['monitor', 'create', '--type', 'HTTP', '--delay', '5', '--timeout', '2', '--max-retries', '3', '--url-path', '/healthz', '--expected-codes', '200-204', '-f', 'value', '-c', 'id'])
    const associated = await cli.json<{pools: {pool_id: string; status: string}[]}>(['monitor', 'associate', ids.monitor, 'web', '--json'])
    expect(associated.pools).toEqual([{pool_id: ids.pool, status: 'ACTIVE'}])
  })

  it('creates the VIP: the pool is deployed and everything is ACTIVE', async () => {
    const vip = await cli.json<{address: string; status: string; session_persistence: unknown}>([
      'vip', 'create', 'web', '--name', 'web-vip', '--protocol', 'HTTP', '--protocol-port', '80', '--subnet', 'wf', '--session-persistence', 'HTTP_COOKIE', '--json',
    ])
    expect(vip).toMatchObject({address: `${cidr.base}.2`, status: 'ACTIVE', session_persistence: {type: 'HTTP_COOKIE'}})
    const pool = await cli.json<{status: string; vip_id: string; members: string[]; health_monitors: string[]}>(['pool', 'show', 'web', '--json'])
    expect(pool.status).toBe('ACTIVE')
    expect(pool.members).toHaveLength(2)
    expect(pool.health_monitors).toEqual([ids.monitor])
  })

  it('shows exactly the SPEC fields in JSON', async () => {
    const pool = await cli.json<Record<string, unknown>>(['pool', 'show', 'web', '--json'])
    expect(Object.keys(pool).sort()).toEqual(
      ['admin_state_up', 'agent', 'description', 'health_monitors', 'id', 'lb_method', 'members', 'name', 'operating_status', 'protocol', 'status', 'status_description', 'subnet_id', 'vip_id'].sort(),
    )
    const [member] = await cli.json<Record<string, unknown>[]>(['member', 'list', '--pool', 'web', '--json'])
    expect(Object.keys(member).sort()).toEqual(
      ['address', 'admin_state_up', 'id', 'operating_status', 'pool_id', 'protocol_port', 'status', 'status_description', 'weight'].sort(),
    )
    const monitor = await cli.json<Record<string, unknown>>(['monitor', 'show', ids.monitor, '--json'])
    expect(Object.keys(monitor).sort()).toEqual(
      ['admin_state_up', 'delay', 'expected_codes', 'http_method', 'id', 'max_retries', 'name', 'pools', 'timeout', 'type', 'url_path'].sort(),
    )
    const vip = await cli.json<Record<string, unknown>>(['vip', 'show', 'web-vip', '--json'])
    expect(Object.keys(vip).sort()).toEqual(
      [
        'address', 'admin_state_up', 'connection_limit', 'default_cert', 'description', 'id', 'name', 'pool_id', 'protocol', 'protocol_port',
        'redirect_http', 'session_persistence', 'sni_certs', 'status', 'status_description', 'subnet_id', 'syslog',
      ].sort(),
    )
  })

  it('lists in every format', async () => {
    expect((await cli.value(['pool', 'list', '-f', 'value', '-c', 'id']))).toBe(ids.pool)
    expect(await cli.value(['pool', 'list', '-f', 'csv', '-c', 'id', '-c', 'name'])).toBe(`id,name\n${ids.pool},web`)
    const {parse} = await import('yaml')
    expect(parse(await cli.value(['vip', 'list', '-f', 'yaml']))[0]).toMatchObject({name: 'web-vip', protocol_port: 80})
    const table = await cli.value(['member', 'list'])
    expect(table).toContain(`${cidr.base}.11`)
    expect(table).toContain('operating_status')
    expect(await cli.value(['subnet', 'list', '-f', 'value', '-c', 'name', '-c', 'managed'])).toBe('wf true')
  })

  it('answers listings on the fast path exactly as oclif does', async () => {
    // bin/run.js takes the fast path for these; oclif's own execute() never does.
    const {execFile} = await import('node:child_process')
    const runJs = new URL('../../../bin/run.js', import.meta.url).href
    const script = `const {execute} = await import('@oclif/core'); await execute({dir: ${JSON.stringify(runJs)}, args: JSON.parse(process.argv[1])})`
    const viaOclif = (args: string[]) =>
      new Promise<string>((resolve, reject) =>
        execFile(
          process.execPath,
          ['--input-type=module', '-e', script, JSON.stringify(args)],
          {cwd: new URL('../../..', import.meta.url).pathname, env: {...process.env, ...cli.env, NO_COLOR: '1'}},
          (error, stdout) => (error ? reject(error) : resolve(stdout)),
        ),
      )
    for (const args of [
      ['pool', 'list'],
      ['pool', 'list', '--json'],
      ['vip', 'list', '-f', 'csv'],
      ['subnet', 'list', '-f', 'yaml'],
      ['monitor', 'list', '-f', 'value', '-c', 'id', '-c', 'type'],
    ]) {
      expect((await cli.run(args)).stdout, args.join(' ')).toBe(await viaOclif(args))
    }
  })

  it('reports pool stats with the SPEC fields', async () => {
    const stats = await cli.json<Record<string, unknown>>(['pool', 'stats', 'web', '--json'])
    expect(Object.keys(stats).sort()).toEqual(['active_connections', 'bytes_in', 'bytes_out', 'members', 'total_connections'])
    expect((stats.members as unknown[]).length).toBe(2)
  })

  it('updates a VIP without losing its session persistence', async () => {
    const vip = await cli.json<{connection_limit: number; session_persistence: unknown}>(['vip', 'update', 'web-vip', '--connection-limit', '100', '--json'])
    expect(vip).toMatchObject({connection_limit: 100, session_persistence: {type: 'HTTP_COOKIE'}})
  })

  it('deletes in order; deletes refuse what is still in use', async () => {
    expect(errorOf(await cli.run(['pool', 'delete', 'web', '--yes', '--json'])).code).toBe('in_use')
    expect(errorOf(await cli.run(['monitor', 'delete', ids.monitor, '--yes', '--json'])).code).toBe('in_use')
    expect((await cli.run(['vip', 'delete', 'web-vip', '--yes'])).stdout).toMatch(/^Deleted vip web-vip/)
    await cli.value(['monitor', 'disassociate', ids.monitor, 'web'])
    await cli.value(['monitor', 'delete', ids.monitor, '--yes'])
    for (const id of (await cli.value(['member', 'list', '-f', 'value', '-c', 'id'])).split('\n')) {
      await cli.value(['member', 'delete', id, '--yes'])
    }
    await cli.value(['pool', 'delete', 'web', '--yes'])
    await cli.value(['subnet', 'delete', 'wf', '--yes'])
    expect(await cli.value(['subnet', 'list', '-f', 'value', '-c', 'id'])).toBe('')
  })
})

describe('the state file', () => {
  it('lets 12 CLI processes write at once without "database is locked"', async () => {
    const sub = tempDir('lbaas-conc-')
    const concurrent = cliFor(sub.path)
    const network = claimTestCidr()
    try {
      await concurrent.value(['subnet', 'create', 'c', '--cidr', network.cidr])
      const results = await Promise.all(
        Array.from({length: 12}, (_, index) =>
          concurrent.run(['pool', 'create', '--name', `p${index}`, '--subnet', 'c', '--protocol', 'TCP', '--lb-method', 'ROUND_ROBIN', '--json']),
        ),
      )
      expect(results.map((result) => result.exitCode)).toEqual(Array(12).fill(0))
      expect(results.every((result) => !/locked/i.test(result.stderr + result.stdout))).toBe(true)
      expect((await concurrent.value(['pool', 'list', '-f', 'value', '-c', 'name'])).split('\n').sort()).toHaveLength(12)
    } finally {
      for (const id of (await concurrent.value(['pool', 'list', '-f', 'value', '-c', 'id'])).split('\n').filter(Boolean)) {
        await concurrent.run(['pool', 'delete', id, '--yes'])
      }
      await concurrent.run(['subnet', 'delete', 'c', '--yes'])
      network.release()
      sub.cleanup()
    }
  })

  it('refuses a schema newer than the binary knows', async () => {
    const sub = tempDir('lbaas-schema-')
    try {
      const state = cliFor(sub.path)
      await state.value(['pool', 'list'])
      const raw = new Database(state.statePath)
      raw.pragma('user_version = 999')
      raw.close()
      const result = await state.run(['pool', 'list', '--json'])
      expect(result.exitCode).toBe(1)
      expect(errorOf(result).code).toBe('schema_too_new')
    } finally {
      sub.cleanup()
    }
  })
})

describe('help', () => {
  it('renders for the root, every topic, and autocomplete', async () => {
    const root = await cli.run(['--help'])
    expect(root.exitCode).toBe(0)
    for (const topic of ['subnet', 'pool', 'member', 'monitor', 'vip', 'lab']) {
      expect(root.stdout).toContain(topic)
      const help = await cli.run([topic, '--help'])
      expect(help.exitCode, topic).toBe(0)
    }
    expect((await cli.run(['autocomplete', '--help'])).exitCode).toBe(0)
    expect((await cli.run(['--version'])).stdout).toMatch(/^lbaas\/\d+\.\d+\.\d+/)
  })
})
