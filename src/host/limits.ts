/**
 * Host limits and prerequisites, for HAProxy's `global maxconn`, the VIP connection limit
 * (SPEC §1) and `lbaas doctor`.
 */
import {existsSync, readFileSync} from 'node:fs'
import {randomBytes} from 'node:crypto'
import {ipBatch} from './ip-batch.js'
import {TEST_PREFIX} from './names.js'
import {deleteNamespace} from './netns.js'
import {run} from './run.js'

export interface FdLimit {
  /** Infinity when unlimited. */
  soft: number
  hard: number
}

function limitValue(text: string): number {
  return text === 'unlimited' ? Infinity : Number(text)
}

/** Parses the "Max open files" line of /proc/PID/limits. */
export function parseFdLimit(limitsText: string): FdLimit {
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)\s+files/m.exec(limitsText)
  if (!match) throw new Error('no "Max open files" line in /proc/self/limits')
  return {soft: limitValue(match[1]), hard: limitValue(match[2])}
}

/**
 * This process's open-file limit. HAProxy started from here inherits it and may raise its
 * soft limit up to the hard one, never beyond without CAP_SYS_RESOURCE (probe.md §7).
 */
export function readFdLimit(): FdLimit {
  return parseFdLimit(readFileSync('/proc/self/limits', 'utf8'))
}

/**
 * File descriptors HAProxy 2.6 needs besides two per connection, measured here: 40 with
 * two threads, a listener, stats and master sockets; plus one per server with `check`
 * ("Cannot raise FD limit to 2 × maxconn + 40 + servers").
 */
const HAPROXY_FIXED_FDS = 100
/** Servers with health checks that the reserve covers before it grows with `checkedServers`. */
const RESERVED_CHECKED_SERVERS = 1_900
/** With no hard limit, memory is the bound: ~32 kB of buffers per connection at most. */
export const MAX_SAFE_MAXCONN = 100_000

/**
 * The largest `global maxconn` HAProxy will start with under `hardLimit` open files:
 *
 *   floor((hardLimit − 100 − max(checkedServers, min(1900, hardLimit / 4))) / 2)
 *
 * rounded down to a multiple of 100 (of 10 below 1000), at most MAX_SAFE_MAXCONN, 0 when
 * the limit is too small for HAProxy at all. HAProxy refuses to start when
 * 2 × maxconn + 40 + checked servers exceeds the limit it can raise to; at 20000 this
 * gives 9000 (HAProxy itself refuses 9984 and above).
 */
export function safeMaxConn(hardLimit: number, checkedServers = 0): number {
  if (hardLimit === Infinity) return MAX_SAFE_MAXCONN
  if (!Number.isFinite(hardLimit) || hardLimit <= 0) return 0
  const servers = Math.max(checkedServers, Math.min(RESERVED_CHECKED_SERVERS, Math.floor(hardLimit / 4)))
  const raw = Math.floor((hardLimit - HAPROXY_FIXED_FDS - servers) / 2)
  if (raw <= 0) return 0
  const step = raw >= 1_000 ? 100 : 10
  return Math.min(MAX_SAFE_MAXCONN, Math.floor(raw / step) * step)
}

export interface PrerequisiteCheck {
  name: string
  status: 'ok' | 'warning' | 'error'
  detail: string
  /** What to do about a warning or an error. */
  fix?: string
}

const CAP_NET_ADMIN = 12
const CAP_SYS_ADMIN = 21

/** Effective capabilities of this process (from /proc/self/status CapEff). */
export function effectiveCapabilities(): bigint {
  const match = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))
  return match ? BigInt(`0x${match[1]}`) : 0n
}

function hasCapability(caps: bigint, bit: number): boolean {
  return (caps & (1n << BigInt(bit))) !== 0n
}

async function checkPrivileges(): Promise<PrerequisiteCheck> {
  const caps = effectiveCapabilities()
  const missing = [
    [CAP_NET_ADMIN, 'CAP_NET_ADMIN'],
    [CAP_SYS_ADMIN, 'CAP_SYS_ADMIN'],
  ].filter(([bit]) => !hasCapability(caps, bit as number))
  if (missing.length === 0) return {name: 'privileges', status: 'ok', detail: 'CAP_NET_ADMIN and CAP_SYS_ADMIN'}
  return {
    name: 'privileges',
    status: 'error',
    detail: `missing ${missing.map(([, name]) => name).join(' and ')} (namespaces, links and bridges need them)`,
    fix: 'run lbaas as root',
  }
}

async function checkNamespaces(): Promise<PrerequisiteCheck> {
  if (!existsSync('/proc/self/ns/net')) {
    return {name: 'network namespaces', status: 'error', detail: 'the kernel has no network namespaces', fix: 'use a kernel with CONFIG_NET_NS=y'}
  }
  try {
    await run(['ip', 'netns', 'list'])
    return {name: 'network namespaces', status: 'ok', detail: '/proc/self/ns/net present, `ip netns` works'}
  } catch (error) {
    return {name: 'network namespaces', status: 'error', detail: (error as Error).message, fix: 'apt-get install iproute2'}
  }
}

/** Creates a veth pair and a bridge inside a throw-away `lbt` namespace, then deletes it. */
async function checkLinkTypes(): Promise<PrerequisiteCheck> {
  const namespace = `${TEST_PREFIX}doctor-${randomBytes(4).toString('hex')}`
  try {
    await ipBatch([`netns add ${namespace}`])
    await ipBatch(['link add lbtv0 type veth peer name lbtv1', 'link add lbtb0 type bridge', 'link set lbtv0 master lbtb0'], {namespace})
    return {name: 'veth and bridge', status: 'ok', detail: 'created a veth pair and a bridge in a scratch namespace'}
  } catch (error) {
    return {name: 'veth and bridge', status: 'error', detail: (error as Error).message, fix: 'use a kernel with CONFIG_VETH and CONFIG_BRIDGE, and run as root'}
  } finally {
    await deleteNamespace(namespace).catch(() => undefined)
  }
}

/** Parses `haproxy -v` output: "HAProxy version 2.6.12-1+deb12u4 2026/10/17 - …". */
export function parseHaproxyVersion(text: string): string | undefined {
  return /HA-?Proxy version (\S+)/.exec(text)?.[1]
}

async function checkHaproxy(): Promise<PrerequisiteCheck> {
  try {
    const {stdout} = await run(['haproxy', '-v'])
    const version = parseHaproxyVersion(stdout)
    if (!version) return {name: 'haproxy', status: 'warning', detail: `unrecognised version output: ${stdout.split('\n')[0]}`}
    const [major, minor] = version.split('.').map(Number)
    if (major < 2 || (major === 2 && minor < 6)) {
      return {name: 'haproxy', status: 'error', detail: `HAProxy ${version} is older than 2.6`, fix: 'install HAProxy 2.6 or newer'}
    }
    return {name: 'haproxy', status: 'ok', detail: `HAProxy ${version}`}
  } catch (error) {
    return {name: 'haproxy', status: 'error', detail: (error as Error).message, fix: 'apt-get install haproxy'}
  }
}

async function checkArping(): Promise<PrerequisiteCheck> {
  try {
    const {stdout} = await run(['arping', '-V'])
    return {name: 'arping', status: 'ok', detail: stdout.split('\n')[0]}
  } catch (error) {
    return {
      name: 'arping',
      status: 'warning',
      detail: `${(error as Error).message}; VIPs are plugged without a gratuitous ARP`,
      fix: 'apt-get install iputils-arping',
    }
  }
}

function checkFileDescriptors(): PrerequisiteCheck {
  const limit = readFdLimit()
  const maxconn = safeMaxConn(limit.hard)
  const hard = limit.hard === Infinity ? 'unlimited' : String(limit.hard)
  if (maxconn < 100) {
    return {
      name: 'file descriptors',
      status: 'error',
      detail: `hard limit ${hard} leaves HAProxy a maxconn of ${maxconn}`,
      fix: 'raise the open-files hard limit (ulimit -Hn) of the shell or service that runs lbaas',
    }
  }
  return {name: 'file descriptors', status: 'ok', detail: `hard limit ${hard}: safe HAProxy maxconn ${maxconn}`}
}

/**
 * What `lbaas doctor` checks on this host: privileges, network namespaces, veth and bridge
 * creation (a real probe in a scratch `lbt` namespace, removed at once), HAProxy and its
 * version, arping, and the file-descriptor limit. Never throws; each problem is a check
 * with status `error` or `warning` and a fix.
 */
export async function checkKernelFeatures(): Promise<PrerequisiteCheck[]> {
  const checks = [await checkPrivileges(), await checkNamespaces()]
  const canProbeLinks = checks.every((check) => check.status === 'ok')
  checks.push(
    canProbeLinks
      ? await checkLinkTypes()
      : {name: 'veth and bridge', status: 'error', detail: 'not probed: needs root and network namespaces'},
  )
  checks.push(await checkHaproxy(), await checkArping(), checkFileDescriptors())
  return checks
}
