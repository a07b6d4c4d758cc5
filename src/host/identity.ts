/**
 * Process identity (SPEC §4.7): lbaas treats a process as one it started (a pool's or the
 * Libra device's HAProxy, a lab backend) only when everything recorded at start still
 * holds: the PID, the start time (/proc/PID/stat field 22), the program (/proc/PID/exe),
 * a command line naming the object's run-dir path, and the network namespace inode.
 * Anything else is "not running" and is never signalled. A zombie is dead.
 *
 * The record is `<name>.identity` beside the pid file: JSON, 0600, written atomically.
 *
 * A process whose PID, start time, program and command line match but whose namespace is
 * no longer the object's named namespace (someone ran `ip netns del` under it) is
 * `detached`: it is provably ours (its namespace inode is still the one recorded at start)
 * but it serves nothing reachable, so sync stops it and deploys again.
 */
import {readFileSync, readlinkSync, renameSync, statSync, writeFileSync} from 'node:fs'
import {dirname} from 'node:path'

import {makePrivateDirs} from '../util/fs.js'
import {NETNS_DIR} from './names.js'
import {readProcessStat} from './proc.js'

export interface RecordedIdentity {
  pid: number
  /** Clock ticks after boot (/proc/PID/stat field 22). */
  start_time: number
  /** Resolved /proc/PID/exe at start. */
  exe: string
  /** A path the command line must name (an argument equal to it or under it). */
  run_path: string
  /** Named namespace the process was started in; null: the host's own. */
  namespace: string | null
  /** Inode of /proc/PID/ns/net at start. */
  netns_inode: number
}

/** What /proc says about a PID now. */
export interface ObservedProcess {
  pid: number
  state: string
  startTime: number
  exe: string | undefined
  argv: string[]
  netnsInode: number | undefined
}

export type IdentityVerdict =
  | {state: 'running'}
  /** Ours (all recorded fields match, including the namespace it was started in) but that namespace is no longer the named one. */
  | {state: 'detached'}
  | {state: 'not-ours'; reason: 'gone' | 'zombie' | 'start time differs' | 'another program' | 'command line names another path' | 'another namespace'}

/** `/usr/sbin/haproxy (deleted)` after a package upgrade is still that program. */
export function sameProgram(seen: string | undefined, expected: string): boolean {
  return seen !== undefined && seen.replace(/ \(deleted\)$/, '') === expected.replace(/ \(deleted\)$/, '')
}

export function namesPath(argv: readonly string[], path: string): boolean {
  const prefix = path.endsWith('/') ? path : `${path}/`
  return argv.some((arg) => arg === path || arg.startsWith(prefix))
}

/**
 * The predicate of SPEC §4.7, pure. `namedNamespaceInode` is the inode the object's named
 * namespace has now (undefined when it is gone; for `namespace: null` the host's).
 */
export function judgeIdentity(recorded: RecordedIdentity, seen: ObservedProcess | undefined, namedNamespaceInode: number | undefined): IdentityVerdict {
  if (!seen || seen.pid !== recorded.pid) return {state: 'not-ours', reason: 'gone'}
  if (seen.state === 'Z' || seen.state === 'X') return {state: 'not-ours', reason: 'zombie'}
  if (seen.startTime !== recorded.start_time) return {state: 'not-ours', reason: 'start time differs'}
  if (!sameProgram(seen.exe, recorded.exe)) return {state: 'not-ours', reason: 'another program'}
  if (!namesPath(seen.argv, recorded.run_path)) return {state: 'not-ours', reason: 'command line names another path'}
  if (seen.netnsInode !== recorded.netns_inode) return {state: 'not-ours', reason: 'another namespace'}
  return namedNamespaceInode === seen.netnsInode ? {state: 'running'} : {state: 'detached'}
}

function inodeOf(path: string): number | undefined {
  try {
    return statSync(path).ino
  } catch {
    return undefined
  }
}

/**
 * Inode of the named namespace, undefined when it does not exist. null is the namespace
 * lbaas itself runs in (a Libra device in host mode), read from /proc/self: PID 1's may be
 * unreadable inside a container.
 */
export function namespaceInode(namespace: string | null): number | undefined {
  return inodeOf(namespace === null ? '/proc/self/ns/net' : `${NETNS_DIR}/${namespace}`)
}

export function observeProcess(pid: number): ObservedProcess | undefined {
  const stat = readProcessStat(pid)
  if (!stat) return undefined
  let exe: string | undefined
  let argv: string[] = []
  try {
    exe = readlinkSync(`/proc/${pid}/exe`)
  } catch {
    exe = undefined
  }
  try {
    argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0')
  } catch {
    argv = []
  }
  return {pid, state: stat.state, startTime: stat.startTime, exe, argv, netnsInode: inodeOf(`/proc/${pid}/ns/net`)}
}

export function identityPath(pidFile: string): string {
  return pidFile.replace(/\.pid$/, '') + '.identity'
}

/**
 * Records the identity of live process `pid` (the caller just started it) in `file`.
 * Returns the record, or undefined when the process is already gone.
 */
export function recordIdentity(file: string, pid: number, expected: {run_path: string; namespace: string | null}): RecordedIdentity | undefined {
  const seen = observeProcess(pid)
  if (!seen || seen.state === 'Z' || seen.state === 'X' || seen.exe === undefined || seen.netnsInode === undefined) return undefined
  const record: RecordedIdentity = {
    pid,
    start_time: seen.startTime,
    exe: seen.exe.replace(/ \(deleted\)$/, ''),
    run_path: expected.run_path,
    namespace: expected.namespace,
    netns_inode: seen.netnsInode,
  }
  makePrivateDirs(dirname(file))
  const temporary = `${file}.${process.pid}.tmp`
  writeFileSync(temporary, `${JSON.stringify(record)}\n`, {mode: 0o600})
  renameSync(temporary, file)
  return record
}

export function parseIdentityRecord(text: string): RecordedIdentity | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  const record = value as Partial<RecordedIdentity>
  const whole = (n: unknown) => typeof n === 'number' && Number.isSafeInteger(n) && n > 0
  if (!record || typeof record !== 'object') return undefined
  if (!whole(record.pid) || !Number.isSafeInteger(record.start_time) || !whole(record.netns_inode)) return undefined
  if (typeof record.exe !== 'string' || typeof record.run_path !== 'string' || !record.run_path.startsWith('/')) return undefined
  if (record.namespace !== null && typeof record.namespace !== 'string') return undefined
  return record as RecordedIdentity
}

export function readIdentity(file: string): RecordedIdentity | undefined {
  try {
    return parseIdentityRecord(readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}

/** The verdict for the process recorded in `file`; no record is `not-ours` (gone). */
export function checkRecorded(file: string): {record: RecordedIdentity | undefined; verdict: IdentityVerdict} {
  const record = readIdentity(file)
  if (!record) return {record, verdict: {state: 'not-ours', reason: 'gone'}}
  return {record, verdict: judgeIdentity(record, observeProcess(record.pid), namespaceInode(record.namespace))}
}
