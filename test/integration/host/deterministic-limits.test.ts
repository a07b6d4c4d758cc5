/**
 * SPEC §4.5 "Deterministic": rendering depends on the host limit recorded in the state
 * file, never on the caller's open-file limit. `lbaas sync` (the built CLI) run under two
 * other `ulimit -n` values renders the same bytes and reloads nothing.
 */
import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'

import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {safeMaxConn} from '../../../src/host/fd-limit.js'
import {readPidFile} from '../../../src/host/proc.js'
import type {SyncResult} from '../../../src/service/sync.js'
import {BIN, type CliResult} from '../../helpers/cli.js'
import {trafficLab, type LabInfo} from '../../helpers/traffic-lab.js'

const world = trafficLab('fdlimit')
let lab: LabInfo
let poolId = ''

/** The built CLI with its open-file limit set to `limit` (soft and hard) by prlimit. */
function lbaasUnder(limit: number, args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      'prlimit',
      [`--nofile=${limit}:${limit}`, '--', process.execPath, BIN, ...args],
      {env: {...process.env, NO_COLOR: '1', LBAAS_DEBUG: undefined, ...world.cli.env}, timeout: 120_000},
      (error, stdout, stderr) => resolve({exitCode: error ? Number((error as {code?: unknown}).code ?? 1) : 0, stdout, stderr}),
    )
  })
}

function recordedLimit(): number | null {
  const db = new Database(world.cli.statePath, {readonly: true})
  try {
    return (db.prepare('SELECT open_files_hard FROM host_limits').get() as {open_files_hard: number | null}).open_files_hard
  } finally {
    db.close()
  }
}

beforeAll(async () => {
  lab = await world.lab(1)
  poolId = (await world.pool('web', 'HTTP', 'ROUND_ROBIN', lab)).id
  await world.member(poolId, lab.backend(1).address)
  await world.vip(poolId, 'web-vip', 'HTTP', 80, lab, `${lab.base}.2`)
})

afterAll(async () => {
  await world.cleanup()
})

describe('rendering reads the recorded host limit', () => {
  it('records the limit of the first command that needed it, and renders maxconn from it', () => {
    const recorded = recordedLimit()
    expect(recorded).not.toBeNull()
    expect(world.config(poolId)).toContain(`maxconn ${safeMaxConn(recorded!)}`)
  })

  it('sync under two other ulimit -n values changes nothing: same bytes, no reload', async () => {
    const before = {config: readFileSync(world.paths(poolId).config), master: readPidFile(world.paths(poolId).pidFile)!.pid, proc: await world.proc(poolId)}
    for (const limit of [8192, 2048]) {
      const result = await lbaasUnder(limit, ['sync', '--json'])
      expect(result.exitCode, result.stderr).toBe(0)
      expect((JSON.parse(result.stdout) as SyncResult).actions).toEqual([])
      expect(readFileSync(world.paths(poolId).config).equals(before.config)).toBe(true)
    }
    const after = await world.proc(poolId)
    expect(readPidFile(world.paths(poolId).pidFile)!.pid).toBe(before.master)
    expect(after.workers.map((worker) => worker.pid)).toEqual(before.proc.workers.map((worker) => worker.pid))
  })

  it('the connection_limit bound is the recorded one, whatever the caller', async () => {
    const bound = safeMaxConn(recordedLimit()!)
    const update = await lbaasUnder(2048, ['vip', 'update', 'web-vip', '--connection-limit', String(bound), '--json'])
    expect(update.exitCode, update.stderr).toBe(0)
    const doctor = await lbaasUnder(2048, ['doctor', '--json'])
    const report = JSON.parse(doctor.stdout) as {max_connection_limit: number; checks: {name: string; status: string; fix?: string}[]}
    expect(report.max_connection_limit).toBe(bound)
    // This caller could not start HAProxy at the recorded maxconn: doctor says so and how to fix it.
    expect(report.checks.find((check) => check.name === 'recorded host limit')).toMatchObject({status: 'warning', fix: expect.stringContaining('--record-limits')})
  })
})
