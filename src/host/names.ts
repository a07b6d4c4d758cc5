/**
 * Host-side names (namespaces, links) and the run-dir layout. Pure: nothing here touches
 * the host. Every name is built from a checked UUID, so no path or interface name is
 * ever built from unchecked input, and every name carries one of this tool's prefixes so
 * listing and cleanup code only ever sees its own things (SPEC §4.1).
 */
import {createHash} from 'node:crypto'
import {resolve} from 'node:path'

import {InternalError, RuntimeFailure, UsageError} from '../domain/errors.js'
import {UUID_PATTERN} from '../domain/validation.js'

/** Where `ip netns` keeps named network namespaces. */
export const NETNS_DIR = '/run/netns'

/** Namespace of a deployed pool: `lbaas-<pool id>`. */
export const POOL_NAMESPACE_PREFIX = 'lbaas-'
/** Root-side end of a VIP veth: `lbv<11 hex of the pool id>`. */
export const VIP_LINK_PREFIX = 'lbv'
/** Bridge of a managed subnet: `lbbr-<8 hex of the subnet id>`. */
export const MANAGED_BRIDGE_PREFIX = 'lbbr-'
/** Namespace of a lab backend: `lab-<8 hex of the lab subnet id>-<index>`. */
export const LAB_NAMESPACE_PREFIX = 'lab-'
/** Root-side end of a lab backend veth: `lbl<8 hex of the lab subnet id><index>`. */
export const LAB_LINK_PREFIX = 'lbl'
/**
 * Namespaces and links that tests (and the `doctor` probe) create directly. Listed here so
 * the guards below accept them; nothing in the product creates long-lived `lbt` things.
 */
export const TEST_PREFIX = 'lbt'

export const OWNED_NAMESPACE_PREFIXES = [POOL_NAMESPACE_PREFIX, LAB_NAMESPACE_PREFIX, TEST_PREFIX] as const
export const OWNED_LINK_PREFIXES = [VIP_LINK_PREFIX, MANAGED_BRIDGE_PREFIX, LAB_LINK_PREFIX, TEST_PREFIX] as const

/** The interface inside a pool namespace that holds the VIP address. */
export const VIP_INTERFACE = 'vip0'
/** The interface inside a lab backend namespace. */
export const LAB_INTERFACE = 'eth0'

/** Linux refuses interface names longer than 15 bytes (IFNAMSIZ 16 with the NUL). */
export const MAX_INTERFACE_NAME = 15
const INTERFACE_NAME = /^[A-Za-z0-9_.-]{1,15}$/
const NAMESPACE_NAME = /^[A-Za-z0-9_.-]{1,200}$/

/**
 * Longest UNIX socket path HAProxy can bind. sun_path holds 108 bytes with the NUL, and
 * HAProxy binds `<path>.<pid>.tmp` first and renames it: its parser caps paths at 97
 * ("too long (max 97)"), which assumes a 5-digit PID. With the kernel's largest pid_max
 * (4194304, 7 digits) the temporary name only fits up to 95, so that is the limit here.
 */
export const MAX_SOCKET_PATH_BYTES = 95

const LONGEST_SOCKET_NAME = 'master.sock'
const MAX_LAB_INDEX = 9999

function internalError(message: string): RuntimeFailure {
  return new InternalError(`${message}`)
}

/** Lower-case UUID, or an internal error: no path or name is built from unchecked input. */
export function checkedId(id: string, what = 'id'): string {
  if (typeof id !== 'string' || !UUID_PATTERN.test(id)) {
    throw internalError(`refusing to build a host name from the unchecked ${what} ${JSON.stringify(id)}`)
  }
  return id.toLowerCase()
}

function hexOf(id: string, what: string, length: number): string {
  return checkedId(id, what).replaceAll('-', '').slice(0, length)
}

export function namespaceFor(poolId: string): string {
  return POOL_NAMESPACE_PREFIX + checkedId(poolId, 'pool id')
}

/** The pool id a pool namespace was named after, or undefined for any other name. */
export function poolIdFromNamespace(namespace: string): string | undefined {
  if (!namespace.startsWith(POOL_NAMESPACE_PREFIX)) return undefined
  const id = namespace.slice(POOL_NAMESPACE_PREFIX.length)
  return UUID_PATTERN.test(id) && id === id.toLowerCase() ? id : undefined
}

export function vipHostLink(poolId: string): string {
  return VIP_LINK_PREFIX + hexOf(poolId, 'pool id', 11)
}

export function managedBridgeFor(subnetId: string): string {
  return MANAGED_BRIDGE_PREFIX + hexOf(subnetId, 'subnet id', 8)
}

export interface LabBackendNames {
  namespace: string
  hostLink: string
}

/**
 * Names of lab backend number `index` (1-based in the CLI, any 0–9999 here) of the lab
 * built on subnet `subnetId`. The host link packs the index after 8 hex digits, which
 * have a fixed width, so two indexes never collide.
 */
export function labBackendNames(subnetId: string, index: number): LabBackendNames {
  if (!Number.isInteger(index) || index < 0 || index > MAX_LAB_INDEX) {
    throw internalError(`lab backend index ${index} is outside 0–${MAX_LAB_INDEX}`)
  }
  const hex = hexOf(subnetId, 'subnet id', 8)
  return {namespace: `${LAB_NAMESPACE_PREFIX}${hex}-${index}`, hostLink: `${LAB_LINK_PREFIX}${hex}${index}`}
}

/** Prefix shared by all backend namespaces of one lab, for listing them. */
export function labNamespacePrefix(subnetId: string): string {
  return `${LAB_NAMESPACE_PREFIX}${hexOf(subnetId, 'subnet id', 8)}-`
}

function ownedBy(name: string, prefixes: readonly string[]): boolean {
  return prefixes.some((prefix) => name.startsWith(prefix) && name.length > prefix.length)
}

/** Throws unless `name` is a namespace name this tool may create, change or delete. */
export function assertOwnedNamespace(name: string): string {
  if (!NAMESPACE_NAME.test(name) || !ownedBy(name, OWNED_NAMESPACE_PREFIXES)) {
    throw internalError(`refusing to touch namespace ${JSON.stringify(name)}: it does not carry an lbaas prefix`)
  }
  return name
}

/** Throws unless `name` is an interface name this tool may create, change or delete. */
export function assertOwnedLink(name: string): string {
  assertInterfaceName(name)
  if (!ownedBy(name, OWNED_LINK_PREFIXES)) {
    throw internalError(`refusing to touch link ${JSON.stringify(name)}: it does not carry an lbaas prefix`)
  }
  return name
}

/** Throws unless `name` is a syntactically valid Linux interface name. */
export function assertInterfaceName(name: string): string {
  if (typeof name !== 'string' || !INTERFACE_NAME.test(name) || name === '.' || name === '..') {
    throw internalError(`${JSON.stringify(name)} is not a valid interface name (1–${MAX_INTERFACE_NAME} of A-Z a-z 0-9 _ . -)`)
  }
  return name
}

/** Listing prefixes must themselves start with one of ours, so a listing never reaches other software's names. */
export function assertOwnedPrefix(prefix: string, kind: 'namespace' | 'link'): string {
  const owned = kind === 'namespace' ? OWNED_NAMESPACE_PREFIXES : OWNED_LINK_PREFIXES
  if (!owned.some((ours) => prefix.startsWith(ours))) {
    throw internalError(`refusing to list ${kind}s with prefix ${JSON.stringify(prefix)}: not an lbaas prefix`)
  }
  return prefix
}

// ---- run dir --------------------------------------------------------------------------

// Paths end up inside haproxy.cfg (stats socket, server-state file), so the run dir is
// limited to characters HAProxy never splits or treats as a comment.
const RUN_DIR_CHARACTERS = /^\/[A-Za-z0-9._+\-/]*$/

/** Absolute, normalised run dir, or a UsageError naming the flag. */
export function checkedRunDir(runDir: string): string {
  const absolute = resolve(runDir)
  if (!RUN_DIR_CHARACTERS.test(absolute)) {
    throw new UsageError(
      `run dir ${JSON.stringify(absolute)} may only contain A-Z a-z 0-9 . _ + - and /`,
      'choose another --run-dir (or LBAAS_RUN_DIR)',
      'invalid_run_dir',
    )
  }
  return absolute
}

/** The longest run dir that leaves room for `<pool id>/master.sock` within MAX_SOCKET_PATH_BYTES. */
export const MAX_RUN_DIR_BYTES = MAX_SOCKET_PATH_BYTES - 1 - 36 - 1 - LONGEST_SOCKET_NAME.length

/** Throws a UsageError when HAProxy could not bind a UNIX socket at `path`. */
export function checkSocketPath(path: string): string {
  const bytes = Buffer.byteLength(path)
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new UsageError(
      `the UNIX socket path ${path} is ${bytes} bytes; HAProxy can bind at most ${MAX_SOCKET_PATH_BYTES}`,
      `choose a shorter --run-dir (at most ${MAX_RUN_DIR_BYTES} bytes)`,
      'run_dir_too_long',
    )
  }
  return path
}

export interface PoolPaths {
  /** `<run dir>/<pool id>`, mode 0700. */
  dir: string
  config: string
  /** Candidate written before `haproxy -c`. */
  configNew: string
  /** Kept for the operator when HAProxy refused the candidate. */
  configRejected: string
  /** Restored when a new configuration validated but the new process did not serve. */
  configLastGood: string
  /**
   * SHA-256 of the configuration the running HAProxy loaded, written once a start or reload
   * succeeded: a crash between the rename and the reload leaves `config` newer than what runs.
   */
  configApplied: string
  /** Per-process runtime API (`stats socket … level admin`). */
  statsSocket: string
  /** Master CLI (`haproxy -W -S`). */
  masterSocket: string
  pidFile: string
  /** The master's identity (identity.ts), recorded at start. */
  identity: string
  /** `show servers state` saved before a reload (`server-state-file`). */
  serverState: string
  log: string
  /** TERMINATED_HTTPS: certificate files (leaf, chain, key; 0600) and the crt-list, in a 0700 directory. */
  certDir: string
}

export function poolPaths(runDir: string, poolId: string): PoolPaths {
  const dir = `${checkedRunDir(runDir)}/${checkedId(poolId, 'pool id')}`
  return {
    dir,
    config: `${dir}/haproxy.cfg`,
    configNew: `${dir}/haproxy.cfg.new`,
    configRejected: `${dir}/haproxy.cfg.rejected`,
    configLastGood: `${dir}/haproxy.cfg.last-good`,
    configApplied: `${dir}/haproxy.cfg.applied`,
    statsSocket: checkSocketPath(`${dir}/stats.sock`),
    masterSocket: checkSocketPath(`${dir}/${LONGEST_SOCKET_NAME}`),
    pidFile: `${dir}/haproxy.pid`,
    identity: `${dir}/haproxy.identity`,
    serverState: `${dir}/server-state`,
    log: `${dir}/haproxy.log`,
    certDir: `${dir}/tls`,
  }
}

/**
 * The tag lbaas writes as the alias of the links it creates (`lbaas:<8 hex>` of the run
 * dir): several lbaas instances (state files) can share a host, and `sync` only removes
 * links whose tag says they belong to its own run dir.
 */
export function ownerTag(runDir: string): string {
  return `lbaas:${createHash('sha256').update(checkedRunDir(runDir)).digest('hex').slice(0, 8)}`
}

export function locksDir(runDir: string): string {
  return `${checkedRunDir(runDir)}/locks`
}

export function poolLockPath(runDir: string, poolId: string): string {
  return `${locksDir(runDir)}/${checkedId(poolId, 'pool id')}.lock`
}

/** The lock for host-wide work (bridges, sync); see lock.ts. */
export function hostLockPath(runDir: string): string {
  return `${locksDir(runDir)}/host.lock`
}

/** Pool ids of the entries of a run dir listing; anything else (locks, lab, stray files) is not a pool. */
export function poolIdsIn(entries: readonly string[]): string[] {
  return entries.filter((entry) => UUID_PATTERN.test(entry) && entry === entry.toLowerCase())
}

/** Control dir of one lab backend (pid file, log, the `unhealthy` switch), mode 0700. */
export function labBackendDir(runDir: string, subnetId: string, index: number): string {
  return labNamespaceDir(runDir, labBackendNames(subnetId, index).namespace)
}

/** The control dir named after a lab namespace (what `sync` looks in for an orphan's server). */
export function labNamespaceDir(runDir: string, namespace: string): string {
  return `${checkedRunDir(runDir)}/lab/${namespace}`
}

/** Files a run-dir entry holds while its HAProxy serves (poolPaths). */
export const RUN_ENTRY_FILES: readonly string[] = [
  'haproxy.cfg',
  'haproxy.cfg.applied',
  'haproxy.cfg.last-good',
  'server-state',
  'stats.sock',
  'master.sock',
  'haproxy.pid',
  'haproxy.identity',
  'haproxy.log',
]

/**
 * Files that HAProxy or lbaas leave in a run-dir entry when interrupted, and that nothing
 * reads again: a candidate (`haproxy.cfg.new`), a refused or failed one once the pool runs
 * its current configuration again (`.rejected`, `.failed`), lbaas's half-written
 * `<file>.<pid>.tmp`, and HAProxy's own `<socket>.<pid>.tmp` / `<socket>.<pid>.bak` (it
 * binds a UNIX socket under a temporary name, keeps the old one as `.bak`, renames, then
 * unlinks the `.bak`: a kill in between leaves it). Anything else is not ours to remove.
 * Removers filter through run-files.ts `strayRunFiles`: a temporary of a live process stays.
 */
export function isStrayRunFile(name: string): boolean {
  return (
    name === 'haproxy.cfg.new' ||
    name === 'haproxy.cfg.rejected' ||
    name === 'haproxy.cfg.failed' ||
    /^[\w.-]+\.\d+\.tmp$/.test(name) ||
    /^(?:stats|master)\.sock\.\d+\.(?:bak|tmp)$/.test(name)
  )
}

/**
 * The PID a temporary of the entry is named after (`<file>.<pid>.tmp`, `<socket>.<pid>.bak`):
 * while that process lives the file may be its work in progress (host/run-files.ts).
 */
export function temporaryOwnerPid(name: string): number | undefined {
  const match = /\.(\d{1,10})\.(?:tmp|bak)$/.exec(name)
  return match ? Number(match[1]) : undefined
}

// ---- HA peers (SPEC §11) ----------------------------------------------------------------

export type HaPeerRole = 'a' | 'b'

function checkedRole(role: HaPeerRole): HaPeerRole {
  if (role !== 'a' && role !== 'b') throw internalError(`HA peer role ${JSON.stringify(String(role))} must be a or b`)
  return role
}

/** Namespace of one HA peer: `lbaas-<pool id>-<a|b>` (two peers can share a host). */
export function haNamespaceFor(poolId: string, role: HaPeerRole): string {
  return `${namespaceFor(poolId)}-${checkedRole(role)}`
}

/** Root-side end of an HA peer's veth: `lbv<10 hex of the pool id><a|b>`. */
export function haHostLink(poolId: string, role: HaPeerRole): string {
  return VIP_LINK_PREFIX + hexOf(poolId, 'pool id', 10) + checkedRole(role)
}

/** The pool id and role an HA peer namespace was named after, or undefined. */
export function haPeerFromNamespace(namespace: string): {poolId: string; role: HaPeerRole} | undefined {
  const match = /^(.*)-([ab])$/.exec(namespace)
  const poolId = match ? poolIdFromNamespace(match[1]) : undefined
  return poolId ? {poolId, role: match![2] as HaPeerRole} : undefined
}

export interface KeepalivedPaths {
  config: string
  configNew: string
  configRejected: string
  /** keepalived's own pid files (parent and VRRP child). */
  pidFile: string
  vrrpPidFile: string
  /** `PID STARTTIME` of the keepalived parent, written when lbaas started it (§4.7). */
  identity: string
  notifyScript: string
  checkScript: string
  /** MASTER/BACKUP/FAULT/STOP, written by the notify script. */
  stateFile: string
  log: string
}

/** keepalived's files in the pool's run dir (beside HAProxy's). */
export function keepalivedPaths(runDir: string, poolId: string): KeepalivedPaths {
  const dir = poolPaths(runDir, poolId).dir
  return {
    config: `${dir}/keepalived.conf`,
    configNew: `${dir}/keepalived.conf.new`,
    configRejected: `${dir}/keepalived.conf.rejected`,
    pidFile: `${dir}/keepalived.pid`,
    vrrpPidFile: `${dir}/keepalived-vrrp.pid`,
    identity: `${dir}/keepalived.identity`,
    notifyScript: `${dir}/notify.sh`,
    checkScript: `${dir}/check.sh`,
    stateFile: `${dir}/vrrp-state`,
    log: `${dir}/keepalived.log`,
  }
}
