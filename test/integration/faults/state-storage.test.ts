/**
 * Issue 6, part 4: the state file's file system fills up or turns read-only. Every command
 * then fails with exit 1 and a code that says which (`state_disk_full`, `state_read_only`)
 * and a hint, never a stack or "internal error"; the state file keeps every row it had
 * (SQLite rolls the failed write back) and works again once space or write access is back.
 * The state lives on a small tmpfs this file mounts (and unmounts in afterAll).
 */
import {closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'

import Database from 'better-sqlite3'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {run} from '../../../src/host/run.js'
import {cliFor, errorOf} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'
import {claimTestCidr, uniqueSuffix} from '../../helpers/unique.js'

const base = tempDir('lbt-storage-')
const mnt = `${base.path}/mnt`
const statePath = `${mnt}/state.db`
const filler = `${mnt}/filler`
const cli = cliFor(base.path, {LBAAS_STATE: statePath, LBAAS_RUN_DIR: `${base.path}/run`})
const claim = claimTestCidr()
const subnet = `st${uniqueSuffix()}`
let mounted = false

function fill(): void {
  const fd = openSync(filler, 'w')
  try {
    const block = Buffer.alloc(16 * 1024)
    for (let i = 0; i < 4096; i++) writeSync(fd, block)
    throw new Error('the tmpfs did not fill up')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  } finally {
    closeSync(fd)
  }
}

function poolNames(): Promise<string> {
  return cli.value(['pool', 'list', '-f', 'value', '-c', 'name'])
}

function integrity(): string {
  const db = new Database(statePath, {readonly: true})
  try {
    return db.pragma('integrity_check', {simple: true}) as string
  } finally {
    db.close()
  }
}

const createPool = (name: string) => ['pool', 'create', '--name', name, '--subnet', subnet, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN', '--json']

beforeAll(async () => {
  mkdirSync(mnt)
  await run(['mount', '-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', mnt], {timeoutMs: 10_000})
  mounted = true
  await cli.json(['subnet', 'create', subnet, '--cidr', claim.cidr, '--json'])
  for (const name of ['kept-1', 'kept-2']) await cli.json(createPool(name))
})

afterAll(async () => {
  try {
    if (mounted) {
      await run(['mount', '-o', 'remount,rw', mnt], {allowFailure: true, timeoutMs: 10_000})
      rmSync(filler, {force: true})
      for (const name of ['kept-1', 'kept-2']) await cli.run(['pool', 'delete', name, '--yes'])
      await cli.run(['subnet', 'delete', subnet, '--yes'])
    }
  } finally {
    if (mounted) await run(['umount', mnt], {timeoutMs: 10_000})
    claim.release()
    base.cleanup()
  }
})

describe('the state file system is full', () => {
  it('a command fails with state_disk_full (exit 1, with a hint); the rows are intact once space is back', async () => {
    expect(await poolNames()).toBe('kept-1\nkept-2')
    fill()
    try {
      const write = await cli.run(createPool('lost'))
      expect([write.exitCode, errorOf(write).code]).toEqual([1, 'state_disk_full'])
      expect(errorOf(write).message).toContain('full')
      const plain = await cli.run(['pool', 'list'])
      expect(plain.exitCode).toBe(1)
      expect(plain.stderr).toMatch(/^error: cannot \S+ the state file .* is full .*\nhint: free space on the file system of /)
      expect(plain.stderr).not.toContain('internal error')
    } finally {
      rmSync(filler, {force: true})
    }
    expect(await poolNames()).toBe('kept-1\nkept-2')
    expect(integrity()).toBe('ok')
  })

  it('while another process holds the state file open (the write itself fails): rolled back, nothing half-written', async () => {
    const holder = new Database(statePath)
    try {
      // An empty WAL: the next write has to grow it, on a full disk.
      holder.pragma('wal_checkpoint(TRUNCATE)')
      fill()
      try {
        const write = await cli.run(['pool', 'update', 'kept-1', '--description', 'x'.repeat(200), '--json'])
        expect([write.exitCode, errorOf(write).code]).toEqual([1, 'state_disk_full'])
        expect(errorOf(write).message).toMatch(/^cannot write to the state file/)
      } finally {
        rmSync(filler, {force: true})
      }
    } finally {
      holder.close()
    }
    expect(integrity()).toBe('ok')
    const kept = await cli.json<{description: string}>(['pool', 'show', 'kept-1', '--json'])
    expect(kept.description).toBe('')
    expect(await poolNames()).toBe('kept-1\nkept-2')
  })
})

describe('the state file system is read-only', () => {
  it('every command fails with state_read_only (exit 1); the file is byte for byte what it was', async () => {
    const before = readFileSync(statePath)
    await run(['mount', '-o', 'remount,ro', mnt], {timeoutMs: 10_000})
    try {
      for (const args of [createPool('lost'), ['pool', 'list', '--json']]) {
        const result = await cli.run(args)
        expect([result.exitCode, errorOf(result).code]).toEqual([1, 'state_read_only'])
      }
    } finally {
      await run(['mount', '-o', 'remount,rw', mnt], {timeoutMs: 10_000})
    }
    expect(Buffer.compare(readFileSync(statePath), before)).toBe(0)
    expect(await poolNames()).toBe('kept-1\nkept-2')
  })
})
