/**
 * Issue 14 / SPEC §10: the audit trail through the real CLI and a real state file. A
 * create/update/delete sequence leaves one event per command with user, argv, objects,
 * result and exit code; a refused command is recorded with its exit code and changes no
 * other row; no secret (key flags' values, PEM text) reaches the trail; `--pool`, `--since`,
 * `-n` and the formats work; read-only commands record nothing.
 */
import Database from 'better-sqlite3'
import {userInfo} from 'node:os'
import {afterAll, describe, expect, it} from 'vitest'

import type {AuditEvent} from '../../../src/store/events.js'
import {cliFor} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'
import {claimTestCidr, uniqueSuffix} from '../../helpers/unique.js'

const dir = tempDir('lbaas-events-')
const cli = cliFor(dir.path)
const cidr = claimTestCidr()
const subnet = `ev${uniqueSuffix(5)}`
const SECRET = 'hunter2-do-not-log'
const PEM = '-----BEGIN PRIVATE KEY-----'

afterAll(async () => {
  try {
    await cli.run(['pool', 'delete', 'audited', '--yes'])
    await cli.run(['subnet', 'delete', subnet, '--yes'])
  } finally {
    cidr.release()
    dir.cleanup()
  }
})

const events = (...flags: string[]) => cli.json<AuditEvent[]>(['events', '--json', ...flags])

/** Every row of every table but events, to prove a refused command changed nothing. */
function otherRows(): string {
  const db = new Database(cli.statePath, {readonly: true})
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('events', 'sqlite_sequence') ORDER BY name").all() as {name: string}[]).map((row) => row.name)
    return JSON.stringify(tables.map((table) => [table, db.prepare(`SELECT * FROM "${table}"`).all()]))
  } finally {
    db.close()
  }
}

describe('lbaas events', () => {
  it('records a create/update/delete sequence, one event per command, and nothing for reads', async () => {
    await cli.value(['subnet', 'create', subnet, '--cidr', cidr.cidr])
    const poolId = await cli.value(['pool', 'create', '--name', 'audited', '--subnet', subnet, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '-f', 'value', '-c', 'id'])
    await cli.value(['pool', 'update', 'audited', '--description', 'v2'])
    const memberId = await cli.value(['member', 'create', 'audited', '--address', `${cidr.base}.11`, '--protocol-port', '8000', '-f', 'value', '-c', 'id'])
    await cli.value(['member', 'update', memberId, '--weight', '3'])
    await cli.value(['member', 'delete', memberId, '--yes'])
    await cli.value(['pool', 'list'])
    await cli.value(['pool', 'show', 'audited'])

    const trail = await events()
    expect(trail.map((event) => event.command)).toEqual(['subnet create', 'pool create', 'pool update', 'member create', 'member update', 'member delete'])
    for (const event of trail) {
      expect(event).toMatchObject({user: userInfo().username, source: 'cli', result: 'ok', exit_code: 0, error: null})
      expect(Date.parse(event.time)).toBeGreaterThan(Date.now() - 10 * 60_000)
    }
    expect(trail[1]).toMatchObject({argv: ['--name', 'audited', '--subnet', subnet, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '-f', 'value', '-c', 'id'], objects: [{type: 'pool', id: poolId, name: 'audited'}], pool_id: poolId, pool_name: 'audited'})
    expect(trail[3]).toMatchObject({objects: [{type: 'member', id: memberId}], pool_id: poolId})
    expect(trail[5]).toMatchObject({command: 'member delete', objects: [{type: 'member', id: memberId}], pool_id: poolId})

    expect((await events('--pool', 'audited')).map((event) => event.command)).toEqual(['pool create', 'pool update', 'member create', 'member update', 'member delete'])
    expect((await events('-n', '2')).map((event) => event.command)).toEqual(['member update', 'member delete'])
    expect(await events('--since', '2000-01-01')).toHaveLength(6)
    expect(await events('--since', '2099-01-01')).toEqual([])
    const table = await cli.value(['events', '--pool', 'audited', '-n', '1'])
    expect(table).toMatch(/member delete .*member [0-9a-f-]{36}.* ok .* 0/s)
    expect((await cli.run(['events', '--since', 'last tuesday'])).exitCode).toBe(2)
  }, 300_000)

  it('records a refused command with its exit code, changes no other row, and keeps no secret', async () => {
    const before = otherRows()
    const refused = await cli.run(['pool', 'update', 'audited', '--lb-method', 'FASTEST', '--json'])
    expect(refused.exitCode).toBe(2)
    const unknownFlag = await cli.run(['pool', 'update', 'audited', '--key', SECRET, '--passphrase-file', `/run/${SECRET}`])
    expect(unknownFlag.exitCode).toBe(2)
    const missing = await cli.run(['member', 'update', '6f1c9e8a-0000-4000-8000-000000000000', '--weight', '2'])
    expect(missing.exitCode).toBe(5)
    const pemInText = await cli.run(['pool', 'update', 'audited', '--description', `${PEM}${SECRET}`])
    expect(otherRows().includes(SECRET)).toBe(pemInText.exitCode === 0)

    const trail = (await events()).slice(-4)
    expect(trail.map((event) => [event.command, event.result, event.exit_code])).toEqual([
      ['pool update', 'error', 2],
      ['pool update', 'error', 2],
      ['member update', 'error', 5],
      ['pool update', pemInText.exitCode === 0 ? 'ok' : 'error', pemInText.exitCode],
    ])
    expect(trail[0].error).toContain('FASTEST')
    expect(trail[0]).toMatchObject({pool_name: 'audited', objects: [{type: 'pool', ref: 'audited'}]})
    expect(trail[1].argv).toEqual(['audited', '--key', '<redacted>', '--passphrase-file', '<redacted>'])
    const everything = JSON.stringify(await events('-n', '100000'))
    expect(everything).not.toContain(SECRET)
    expect(everything).not.toContain('PRIVATE KEY')
    if (pemInText.exitCode !== 0) expect(otherRows()).toBe(before)
  })

  it('records pool deletion, and finds the deleted pool by its name', async () => {
    await cli.value(['pool', 'delete', 'audited', '--yes'])
    const trail = await events('--pool', 'audited')
    expect(trail.at(-1)).toMatchObject({command: 'pool delete', result: 'ok', pool_name: 'audited'})
  })
})
