import {spawn, type ChildProcess} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {temporaryOwnerPid} from '../../../src/host/names.js'
import {isTemporaryInUse, removeRunLeftovers, rmRunFiles, strayRunFiles} from '../../../src/host/run-files.js'

// Above this host's pid_max (at most 2^22): no process can have it.
const NO_SUCH_PID = 99_999_999

let dir: string
/** A live process that is neither this one nor HAProxy. */
let other: ChildProcess
beforeAll(async () => {
  other = spawn('sleep', ['60'], {stdio: 'ignore'})
  await new Promise((resolve) => other.once('spawn', resolve))
})
afterAll(() => {
  other.kill('SIGKILL')
})
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lbt-run-files-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

describe('temporaryOwnerPid', () => {
  it.each([
    ['master.sock.4242.tmp', 4242],
    ['stats.sock.9.bak', 9],
    ['haproxy.cfg.55.tmp', 55],
    ['haproxy.cfg', undefined],
    ['master.sock', undefined],
    ['haproxy.cfg.new', undefined],
  ])('%s → %s', (name, pid) => {
    expect(temporaryOwnerPid(name)).toBe(pid)
  })
})

describe('temporaries of live processes are work in progress', () => {
  it("another live process's temporary is in use; this process's own, or one of a PID that cannot exist, is not", () => {
    expect(isTemporaryInUse(`haproxy.cfg.${other.pid}.tmp`)).toBe(true)
    expect(isTemporaryInUse(`haproxy.cfg.${process.pid}.tmp`)).toBe(false)
    expect(isTemporaryInUse(`haproxy.cfg.${NO_SUCH_PID}.tmp`)).toBe(false)
    expect(isTemporaryInUse('haproxy.cfg.new')).toBe(false)
  })

  it("a socket's temporary is kept only for a live HAProxy (integration: faults/sync-guarantees), not any live PID", () => {
    expect(isTemporaryInUse(`master.sock.${other.pid}.tmp`)).toBe(false)
    expect(isTemporaryInUse(`stats.sock.${other.pid}.bak`)).toBe(false)
  })

  it('strayRunFiles keeps what a live process may still rename', () => {
    const files = ['haproxy.cfg', 'haproxy.cfg.new', `server-state.${other.pid}.tmp`, `master.sock.${other.pid}.bak`, `stats.sock.${NO_SUCH_PID}.bak`, `server-state.${NO_SUCH_PID}.tmp`]
    expect(strayRunFiles(files)).toEqual(['haproxy.cfg.new', `master.sock.${other.pid}.bak`, `stats.sock.${NO_SUCH_PID}.bak`, `server-state.${NO_SUCH_PID}.tmp`])
  })

  it('removeRunLeftovers removes the dead ones and leaves the live ones and every file of the entry', () => {
    const names = ['haproxy.cfg', 'master.sock', 'haproxy.cfg.rejected', `server-state.${other.pid}.tmp`, `master.sock.${NO_SUCH_PID}.bak`, 'notes.txt']
    for (const name of names) writeFileSync(join(dir, name), '')
    removeRunLeftovers({dir})
    expect(readdirSync(dir).sort()).toEqual(['haproxy.cfg', 'master.sock', `server-state.${other.pid}.tmp`, 'notes.txt'].sort())
  })

  it('removeRunLeftovers on an entry that is gone does nothing', () => {
    expect(() => removeRunLeftovers({dir: join(dir, 'gone')})).not.toThrow()
  })

  it('rmRunFiles refuses a path', () => {
    writeFileSync(join(dir, 'keep'), '')
    expect(() => rmRunFiles({dir}, ['../keep'])).toThrow(/refusing to remove/)
    expect(existsSync(join(dir, 'keep'))).toBe(true)
  })
})
