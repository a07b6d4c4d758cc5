import {spawn} from 'node:child_process'
import {statSync} from 'node:fs'
import {afterAll, describe, expect, it} from 'vitest'

import {
  checkRecorded,
  judgeIdentity,
  namesPath,
  observeProcess,
  parseIdentityRecord,
  readIdentity,
  recordIdentity,
  sameProgram,
  type ObservedProcess,
  type RecordedIdentity,
} from '../../../src/host/identity.js'
import {tempDir} from '../../helpers/tmp.js'
import {waitFor} from '../../helpers/wait.js'

const dir = tempDir('lbaas-identity-')
afterAll(() => dir.cleanup())

const recorded: RecordedIdentity = {
  pid: 4242,
  start_time: 777,
  exe: '/usr/sbin/haproxy',
  run_path: '/var/lib/lbaas/run/0b4c8f6e-6f7e-4e4f-9b1a-2f1d8c3e4a5b',
  namespace: 'lbaas-0b4c8f6e-6f7e-4e4f-9b1a-2f1d8c3e4a5b',
  netns_inode: 4026532001,
}
const seen: ObservedProcess = {
  pid: 4242,
  state: 'S',
  startTime: 777,
  exe: '/usr/sbin/haproxy',
  argv: ['haproxy', '-W', '-D', '-f', `${recorded.run_path}/haproxy.cfg`],
  netnsInode: 4026532001,
}

describe('judgeIdentity (SPEC §4.7)', () => {
  it('is running only when every recorded field matches and the named namespace is the one it runs in', () => {
    expect(judgeIdentity(recorded, seen, 4026532001)).toEqual({state: 'running'})
  })

  it.each([
    ['gone', undefined],
    ['gone', {...seen, pid: 4243}],
    ['zombie', {...seen, state: 'Z'}],
    ['zombie', {...seen, state: 'X'}],
    ['start time differs', {...seen, startTime: 778}],
    ['another program', {...seen, exe: '/usr/bin/sleep'}],
    ['another program', {...seen, exe: undefined}],
    ['command line names another path', {...seen, argv: ['sleep', '600']}],
    ['command line names another path', {...seen, argv: ['haproxy', '-f', `${recorded.run_path}x/haproxy.cfg`]}],
    ['another namespace', {...seen, netnsInode: 4026532999}],
    ['another namespace', {...seen, netnsInode: undefined}],
  ] as const)('is not ours when %s', (reason, observed) => {
    expect(judgeIdentity(recorded, observed as ObservedProcess | undefined, 4026532001)).toEqual({state: 'not-ours', reason})
  })

  it('a recycled PID (a sleep of someone else) is never ours, whatever namespace it is in', () => {
    const sleep = {pid: 4242, state: 'S', startTime: 99_999, exe: '/usr/bin/sleep', argv: ['sleep', '600'], netnsInode: 4026531840}
    expect(judgeIdentity(recorded, sleep, 4026531840).state).toBe('not-ours')
  })

  it('is detached when it is ours but its named namespace is gone or was re-created', () => {
    expect(judgeIdentity(recorded, seen, undefined)).toEqual({state: 'detached'})
    expect(judgeIdentity(recorded, seen, 4026533000)).toEqual({state: 'detached'})
  })

  it('the same program after a package upgrade (exe shows "(deleted)") is still that program', () => {
    expect(sameProgram('/usr/sbin/haproxy (deleted)', '/usr/sbin/haproxy')).toBe(true)
    expect(sameProgram('/usr/sbin/haproxy2', '/usr/sbin/haproxy')).toBe(false)
  })

  it('a command line names a path by an argument equal to it or under it', () => {
    expect(namesPath(['x', '/a/b'], '/a/b')).toBe(true)
    expect(namesPath(['x', '/a/b/c'], '/a/b')).toBe(true)
    expect(namesPath(['x', '/a/bc'], '/a/b')).toBe(false)
  })
})

describe('identity records', () => {
  it('rejects anything but a complete record', () => {
    expect(parseIdentityRecord(JSON.stringify(recorded))).toEqual(recorded)
    expect(parseIdentityRecord('4242 777\n')).toBeUndefined()
    expect(parseIdentityRecord('{')).toBeUndefined()
    expect(parseIdentityRecord(JSON.stringify({...recorded, pid: 0}))).toBeUndefined()
    expect(parseIdentityRecord(JSON.stringify({...recorded, run_path: 'relative'}))).toBeUndefined()
    expect(parseIdentityRecord(JSON.stringify({...recorded, namespace: 3}))).toBeUndefined()
  })

  it('records a live child (0600), proves it running in the host namespace, and calls it gone once it exited', async () => {
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30_000)', `${dir.path}/marker`], {stdio: 'ignore'})
    await new Promise((resolve) => child.once('spawn', resolve))
    // 'spawn' may come before the child has exec'd sleep.
    await waitFor('the child to exec', () => observeProcess(child.pid!)?.argv.at(-1) === `${dir.path}/marker`, 5_000, 5)
    try {
      const file = `${dir.path}/sleep.identity`
      const record = recordIdentity(file, child.pid!, {run_path: `${dir.path}/marker`, namespace: null})
      expect(record?.exe).toBe(process.execPath)
      expect(statSync(file).mode & 0o777).toBe(0o600)
      expect(readIdentity(file)).toEqual(record)
      expect(checkRecorded(file).verdict).toEqual({state: 'running'})
      expect(observeProcess(child.pid!)?.argv.at(-1)).toBe(`${dir.path}/marker`)
      child.kill('SIGKILL')
      await new Promise((resolve) => child.once('exit', resolve))
      expect(checkRecorded(file).verdict.state).toBe('not-ours')
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('no record: not ours', () => {
    expect(checkRecorded(`${dir.path}/missing.identity`).verdict).toEqual({state: 'not-ours', reason: 'gone'})
  })
})
