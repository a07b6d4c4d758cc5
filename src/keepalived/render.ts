/**
 * keepalived configuration of one HA peer (SPEC §11): one VRRP instance per pool, rendered
 * purely and deterministically from a checked spec. Both peers start as BACKUP with
 * `nopreempt` (the first to see no MASTER takes over; a returning peer never takes the VIP
 * back), VRRP goes unicast between the two peer addresses (no multicast on a shared
 * bridge), `accept` lets the VIP answer locally, gratuitous ARP/NA on takeover moves
 * neighbours' caches at once, and a vrrp_script that fails when this peer's HAProxy stops
 * answering its stats socket puts the peer in FAULT (it releases the VIP; the other peer
 * takes over). Never `vrrp_strict` (it would add firewall rules and refuse unicast).
 *
 * Every value is checked here before it is written: addresses are canonical IPs of one
 * family, the VIP and the peers are distinct, numbers are in keepalived's ranges, and a
 * word that reaches the file (interface, script argv, names) holds only characters that
 * keepalived's parser never splits, expands (`$`), treats as a comment (`#`, `!`), a block
 * (`{`, `}`), a quote or a config-id prefix (`@`). Throws RuntimeFailure
 * `keepalived_render_unsafe` otherwise: nothing is written.
 */
import {RuntimeFailure} from '../domain/errors.js'
import {canonicalAddress, type Family} from '../domain/ip.js'
import {UUID_PATTERN} from '../domain/validation.js'

export type PeerRole = 'a' | 'b'

export interface VrrpScriptSpec {
  /** Program and arguments keepalived runs (no shell): exit 0 = healthy. */
  argv: string[]
  /** Seconds between runs. */
  intervalSeconds: number
  /** Seconds a run may take before it counts as failed. */
  timeoutSeconds: number
  /** Failed runs in a row before the peer goes FAULT; successes before it recovers. */
  fall: number
  rise: number
}

export interface GarpSpec {
  /** Seconds after becoming MASTER before the second burst of gratuitous ARPs. */
  masterDelay: number
  /** Gratuitous ARPs per burst. */
  masterRepeat: number
  /** Seconds between periodic refreshes while MASTER (0: none). */
  masterRefresh: number
}

export interface KeepalivedPeerSpec {
  poolId: string
  role: PeerRole
  /** The interface inside the peer's namespace that holds the peer address (and the VIP when MASTER). */
  interface: string
  /** 1–255, unique per subnet (the controller chooses it). */
  virtualRouterId: number
  /** 1–254; both peers are BACKUP with nopreempt, so priority only breaks ties at start. */
  priority: number
  /** This peer's own address on the VIP's subnet (unicast_src_ip). */
  peerAddress: string
  /** The other peer's address (unicast_peer). */
  otherPeerAddress: string
  vipAddress: string
  /** The VIP subnet's prefix length. */
  prefixLength: number
  /** Advertisement interval in centiseconds (VRRPv3): 100 = 1 s. */
  advertCentiseconds: number
  check: VrrpScriptSpec
  /** keepalived appends `INSTANCE <name> <STATE> <priority>` to these words. */
  notifyArgv: string[]
  garp: GarpSpec
}

export const DEFAULT_GARP: GarpSpec = {masterDelay: 1, masterRepeat: 3, masterRefresh: 10}
/** Half a second: the backup declares the master dead after 3 × 0.5 s + skew (< 2 s). */
export const DEFAULT_ADVERT_CENTISECONDS = 50

const INDENT = '    '
/** Words keepalived reads back verbatim: no whitespace, quotes, `#`, `!`, `$`, `@`, `{`, `}`, `~`. */
const SAFE_WORD = /^[A-Za-z0-9._+:/=,%-]+$/
const INTERFACE = /^[A-Za-z0-9_.-]{1,15}$/

function unsafe(message: string): RuntimeFailure {
  return new RuntimeFailure('keepalived_render_unsafe', `internal error while rendering the keepalived configuration: ${message}`)
}

function integer(value: number, what: string, minimum: number, maximum: number): number {
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw unsafe(`${what} ${value} must be an integer from ${minimum} to ${maximum}`)
  }
  return value
}

function word(value: string, what: string): string {
  if (typeof value !== 'string' || !SAFE_WORD.test(value)) {
    throw unsafe(`${what} ${JSON.stringify(String(value))} may only hold A-Z a-z 0-9 . _ + : / = , % -`)
  }
  return value
}

function address(value: string, what: string): {address: string; family: Family} {
  const canonical = canonicalAddress(value)
  if (!canonical || canonical.address !== value) throw unsafe(`${what} ${JSON.stringify(String(value))} is not a canonical IP address`)
  return canonical
}

function program(argv: readonly string[], what: string): string {
  if (!Array.isArray(argv) || argv.length === 0) throw unsafe(`${what} needs a program`)
  if (!argv[0].startsWith('/')) throw unsafe(`${what} program ${JSON.stringify(argv[0])} must be an absolute path`)
  // One quoted string whose words keepalived splits on spaces: every word is checked.
  return `"${argv.map((part) => word(part, `${what} word`)).join(' ')}"`
}

/** `lbaas_<32 hex>`: the VRRP instance (and vrrp_script) name of a pool. */
export function vrrpInstanceName(poolId: string): string {
  if (typeof poolId !== 'string' || !UUID_PATTERN.test(poolId)) throw unsafe(`pool id ${JSON.stringify(String(poolId))} is not a UUID`)
  return `lbaas_${poolId.toLowerCase().replaceAll('-', '')}`
}

/** `advert_int` in seconds from centiseconds: `1`, `0.5`, `0.25`. */
export function formatAdvertInterval(centiseconds: number): string {
  integer(centiseconds, 'advert interval (centiseconds)', 1, 4095)
  const whole = Math.floor(centiseconds / 100)
  const rest = centiseconds % 100
  if (rest === 0) return String(whole)
  return `${whole}.${String(rest).padStart(2, '0').replace(/0$/, '')}`
}

/** Checks the whole spec; returns the family shared by the VIP and both peers. */
export function checkPeerSpec(spec: KeepalivedPeerSpec): Family {
  vrrpInstanceName(spec.poolId)
  if (spec.role !== 'a' && spec.role !== 'b') throw unsafe(`peer role ${JSON.stringify(String(spec.role))} must be a or b`)
  if (typeof spec.interface !== 'string' || !INTERFACE.test(spec.interface)) {
    throw unsafe(`interface ${JSON.stringify(String(spec.interface))} is not a valid interface name`)
  }
  integer(spec.virtualRouterId, 'virtual_router_id', 1, 255)
  integer(spec.priority, 'priority', 1, 254)
  const own = address(spec.peerAddress, 'peer address')
  const other = address(spec.otherPeerAddress, 'other peer address')
  const vip = address(spec.vipAddress, 'VIP address')
  if (own.family !== vip.family || other.family !== vip.family) throw unsafe('the VIP and both peer addresses must be of one IP family')
  const distinct = new Set([own.address, other.address, vip.address])
  if (distinct.size !== 3) throw unsafe(`the VIP ${vip.address} and the peers ${own.address}, ${other.address} must be three different addresses`)
  integer(spec.prefixLength, 'prefix length', 1, vip.family === 4 ? 32 : 128)
  formatAdvertInterval(spec.advertCentiseconds)
  integer(spec.check.intervalSeconds, 'check interval', 1, 3600)
  integer(spec.check.timeoutSeconds, 'check timeout', 1, 3600)
  integer(spec.check.fall, 'check fall', 1, 255)
  integer(spec.check.rise, 'check rise', 1, 255)
  program(spec.check.argv, 'check script')
  program(spec.notifyArgv, 'notify script')
  integer(spec.garp.masterDelay, 'garp_master_delay', 0, 255)
  integer(spec.garp.masterRepeat, 'garp_master_repeat', 1, 255)
  integer(spec.garp.masterRefresh, 'garp_master_refresh', 0, 86_400)
  return vip.family
}

function block(header: string, body: string[]): string[] {
  return [`${header} {`, ...body.map((line) => INDENT + line), '}']
}

/** The keepalived.conf of one peer. Pure and deterministic. */
export function renderKeepalivedConfig(spec: KeepalivedPeerSpec): string {
  checkPeerSpec(spec)
  const instance = vrrpInstanceName(spec.poolId)
  const script = `${instance}_haproxy`
  const lines = [
    `# generated by lbaas for pool ${spec.poolId.toLowerCase()} (peer ${spec.role}); do not edit, every change is overwritten`,
    ...block('global_defs', [
      `router_id ${instance}_${spec.role}`,
      // VRRPv3: sub-second adverts, and the same protocol for IPv4 and IPv6.
      'vrrp_version 3',
      // Scripts run as root (they read a root-owned socket); named so keepalived does not
      // guess, and keepalived refuses them if a non-root user could rewrite them.
      'script_user root',
      'enable_script_security',
    ]),
    '',
    ...block(`vrrp_script ${script}`, [
      `script ${program(spec.check.argv, 'check script')}`,
      `interval ${spec.check.intervalSeconds}`,
      `timeout ${spec.check.timeoutSeconds}`,
      `fall ${spec.check.fall}`,
      `rise ${spec.check.rise}`,
    ]),
    '',
    ...block(`vrrp_instance ${instance}`, [
      // Both peers BACKUP + nopreempt: whoever holds the VIP keeps it while it is healthy.
      'state BACKUP',
      'nopreempt',
      `interface ${spec.interface}`,
      `virtual_router_id ${spec.virtualRouterId}`,
      `priority ${spec.priority}`,
      `advert_int ${formatAdvertInterval(spec.advertCentiseconds)}`,
      'accept',
      `unicast_src_ip ${spec.peerAddress}`,
      ...block('unicast_peer', [spec.otherPeerAddress]),
      ...block('virtual_ipaddress', [`${spec.vipAddress}/${spec.prefixLength} dev ${spec.interface}`]),
      ...block('track_script', [script]),
      `garp_master_delay ${spec.garp.masterDelay}`,
      `garp_master_repeat ${spec.garp.masterRepeat}`,
      `garp_master_refresh ${spec.garp.masterRefresh}`,
      `notify ${program(spec.notifyArgv, 'notify script')}`,
    ]),
  ]
  return `${lines.join('\n')}\n`
}

/**
 * The notify script (constant text; no value is rendered into it). keepalived runs it as
 * `notify.sh STATE_FILE INSTANCE NAME STATE PRIORITY`; it writes STATE atomically to
 * STATE_FILE, which the agent reads (MASTER, BACKUP, FAULT, STOP).
 */
export function renderNotifyScript(): string {
  return [
    '#!/bin/sh',
    '# generated by lbaas: keepalived runs this on every VRRP state change as',
    '#   notify.sh STATE_FILE INSTANCE NAME STATE PRIORITY',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'case "$4" in MASTER|BACKUP|FAULT|STOP) ;; *) exit 0 ;; esac',
    'umask 077',
    'printf \'%s\\n\' "$4" > "$1.tmp" && mv -f "$1.tmp" "$1"',
    '',
  ].join('\n')
}

/**
 * The check script (constant text): healthy when HAProxy answers `show info` on the stats
 * socket given as its only argument. Fails (the peer goes FAULT and releases the VIP)
 * when HAProxy is gone or no longer answers.
 */
export function renderCheckScript(): string {
  return [
    '#!/bin/sh',
    '# generated by lbaas: keepalived runs this as  check.sh STATS_SOCKET  (exit 0 = HAProxy answers)',
    'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
    'printf \'show info\\n\' | socat -T 2 - "UNIX-CONNECT:$1" 2>/dev/null | grep -q \'^Pid: \'',
    '',
  ].join('\n')
}

/** VRRP states keepalived reports through notify. */
export const VRRP_STATES = ['MASTER', 'BACKUP', 'FAULT', 'STOP'] as const
export type VrrpState = (typeof VRRP_STATES)[number]

/** Parses the state file the notify script writes; undefined for anything else. */
export function parseVrrpState(text: string): VrrpState | undefined {
  const state = text.trim()
  return (VRRP_STATES as readonly string[]).includes(state) ? (state as VrrpState) : undefined
}
