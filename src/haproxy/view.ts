/**
 * The HAProxy view: every decision about what the configuration says, made from a
 * PoolGraph (or, later, a Libra device) before any text is written. `render.ts` only
 * formats a view. Pure: no I/O.
 *
 * The view is shaped for both consumers: a Neutron-style pool (one frontend, one backend)
 * and a Libra device (up to two frontend/backend pairs in one file, per-pair timeouts and
 * retries, `backup` nodes, checks with HAProxy's default rise/fall).
 */
import {createHash} from 'node:crypto'

import {RuntimeFailure, UsageError} from '../domain/errors.js'
import {canonicalAddress} from '../domain/ip.js'
import {drivingMonitor} from '../domain/status.js'
import type {CertificateBundle, Member, Monitor, PoolGraph, Protocol, Vip} from '../domain/types.js'
import {expandExpectedCodes, ipEndpoint} from '../domain/validation.js'

/** Durations are milliseconds; the renderer writes whole seconds as `Ns`. */
export type Milliseconds = number

export type ProxyMode = 'http' | 'tcp'
export type Balance = 'roundrobin' | 'leastconn' | 'source'

export interface HaproxyView {
  /** Comment lines at the top of the file (ids and fixed text only). */
  header: string[]
  global: GlobalView
  defaults: DefaultsView
  /** In-memory log buffer; read it with `show events <name>` on the stats socket. */
  logRing: LogRingView | null
  frontends: FrontendView[]
  backends: BackendView[]
  /** The crt-list file a TERMINATED_HTTPS bind reads, and the certificate files it names. */
  crtList?: CrtListView | null
  /** HA (SPEC §11): the two peers that share stick tables; null for a single HAProxy. */
  peers?: PeersView | null
  /** What the operator should know (settings without effect, clamped values). Not rendered. */
  warnings: string[]
}

export interface GlobalView {
  maxconn: number
  user: string
  group: string
  statsSocket: string
  statsTimeout: Milliseconds
  serverStateFile: string
  hardStopAfter: Milliseconds
  /** `log <target> local0`, e.g. `ring@lbaas-log`; null: no logging. */
  logTarget: string | null
  /** The VIP's syslog server (SPEC §10): a second `log` line, RFC 5424 over UDP. Absent: the ring only. */
  syslog?: {address: string; port: number}
}

/** `peers` section: stick tables pushed to the other HA peer, so persistence survives a failover. */
export interface PeersView {
  name: string
  /** This process's peer name (`localpeer`); one of `peers`. */
  localName: string
  peers: {name: string; address: string; port: number}[]
}

export interface LogRingView {
  name: string
  sizeBytes: number
  maxLineLength: number
}

export interface DefaultsView {
  /** `log global`: proxies log where `global` says. */
  logGlobal: boolean
  loadServerStateFromFile: boolean
  retries: number
  redispatch: boolean
  timeouts: {connect: Milliseconds; client: Milliseconds; server: Milliseconds}
}

export interface BindView {
  /** Canonical IPv4/IPv6 address; `0.0.0.0` or `::` for every address. */
  address: string
  port: number
  /** TLS termination on this bind (SPEC §9); absent or null: plain. */
  tls?: TlsBindView | null
}

export interface TlsBindView {
  /** Absolute path of the crt-list file. */
  crtList: string
  alpn: string[]
  minVersion: 'TLSv1.2' | 'TLSv1.3'
}

export interface CrtListEntryView {
  /** Absolute path of the PEM file (leaf, chain, key), written 0600 by the executor. */
  file: string
  certId: string
  /** SNI names this certificate answers for (its DNS SANs); the first entry is the default. */
  sniFilters: string[]
}

export interface CrtListView {
  path: string
  entries: CrtListEntryView[]
}

export interface FrontendView {
  name: string
  mode: ProxyMode
  binds: BindView[]
  maxconn: number
  /** `option httplog` / `option tcplog`. */
  log: 'http' | 'tcp' | null
  /** Closes idle keep-alive connections at once when a soft-stopping worker gets a response. */
  idleCloseOnResponse: boolean
  /** Overrides the defaults' `timeout client`. */
  timeoutClient: Milliseconds | null
  /** `http-request set-header <name> <value>`, in order (fixed text only). */
  setHeaders?: {name: string; value: string}[]
  /** Answers every request with a 301 to https:// on this port instead of proxying it. */
  redirectToHttpsPort?: number | null
  defaultBackend: string
  disabled: boolean
}

export type HealthCheckView =
  | {kind: 'tcp'}
  | {
      kind: 'http'
      method: string
      path: string
      /** Regex for `http-check expect rstatus`; null: HAProxy's default (2xx and 3xx pass). */
      expectStatus: string | null
    }

export type PersistenceView =
  /** `stick-table type ip|ipv6` + `stick on src`; `peers`: the peers section that shares the table. */
  | {kind: 'source'; tableType: 'ip' | 'ipv6'; tableSize: string; expire: Milliseconds; peers?: string}
  /** `cookie <name> insert indirect nocache`; each server carries its cookie value. */
  | {kind: 'insert-cookie'; cookieName: string}
  /** Stick table keyed on the application's cookie (learned from responses). */
  | {kind: 'app-cookie'; cookieName: string; keyLength: number; tableSize: string; expire: Milliseconds; peers?: string}

export interface ServerCheckView {
  interval: Milliseconds
  /** null: HAProxy's default (fall 3, rise 2). */
  fall: number | null
  rise: number | null
  /** `check-ssl verify none`: the check runs over TLS without verifying the certificate. */
  overTls: boolean
}

export interface ServerView {
  name: string
  /** Canonical IPv4/IPv6 address. */
  address: string
  port: number
  weight: number
  backup: boolean
  /** In the file so the runtime API can enable it again without a reload. */
  disabled: boolean
  check: ServerCheckView | null
  cookie: string | null
}

export interface BackendView {
  name: string
  mode: ProxyMode
  balance: Balance
  forwardFor: boolean
  /** Per-backend overrides of the defaults (null: inherit) and the check timeout. */
  timeouts: {connect: Milliseconds | null; server: Milliseconds | null; check: Milliseconds | null}
  retries: number | null
  healthCheck: HealthCheckView | null
  persistence: PersistenceView | null
  servers: ServerView[]
  disabled: boolean
}

export interface RenderOptions {
  /** Per-process stats socket (runtime API, `level admin`). */
  statsSocket: string
  /** Where `show servers state` is saved before a reload. */
  serverStateFile: string
  /** Global maxconn; the host derives it from the file-descriptor limit (≤ ~9000 here). */
  maxconn: number
  /** HAProxy drops privileges to this user and group after binding. */
  user: string
  group: string
  /** Longest life of a soft-stopping worker after a reload, e.g. `30s`. */
  hardStopAfter: string
  /** Size of the in-memory log ring; 0 turns logging off. Default 65536. */
  logRingBytes?: number
  /** Where a pool's certificate files and crt-list live (absolute); needed for TERMINATED_HTTPS. */
  certDir?: string
  /** HA (SPEC §11): this peer and the other one; their stick tables are shared. */
  haPeers?: HaPeersOption
}

export const TLS_ALPN = ['h2', 'http/1.1']
export const TLS_MIN_VERSION = 'TLSv1.2'
export const HTTPS_PORT = 443
export const HTTP_PORT = 80

/** The file HAProxy loads for a certificate; `set ssl cert` names it too. */
export function certificateFile(certDir: string, certId: string): string {
  return `${certDir}/${certId}.pem`
}

export function crtListFile(certDir: string): string {
  return `${certDir}/crt-list`
}

/** SHA-256 of what HAProxy loads for a certificate (leaf, chain, key): changes on rotation. */
export function bundleDigest(cert: CertificateBundle): string {
  return createHash('sha256').update(cert.cert_pem + cert.chain_pem + cert.key_pem).digest('hex')
}

const DNS_NAME = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/

/**
 * The crt-list of a TERMINATED_HTTPS VIP: the default certificate first (HAProxy serves the
 * first entry when no SNI name matches), then each SNI certificate, each answering for its
 * DNS SANs. A certificate listed twice appears once.
 */
export function buildCrtList(vip: Vip, certs: readonly CertificateBundle[], certDir: string, warnings: string[]): CrtListView {
  const byId = new Map(certs.map((cert) => [cert.id, cert]))
  const ids = [...new Set([vip.default_cert, ...vip.sni_certs].filter((id): id is string => id !== null))]
  if (vip.default_cert === null) throw internal(`TERMINATED_HTTPS VIP ${vip.id} has no default certificate`)
  const entries = ids.map((certId) => {
    const cert = byId.get(certId)
    if (!cert) throw internal(`certificate ${certId} of VIP ${vip.id} was not loaded`)
    const dnsNames = cert.sans.filter((san) => DNS_NAME.test(san) && !/^[\d.]+$/.test(san))
    if (dnsNames.length === 0 && certId !== vip.default_cert) {
      warnings.push(`certificate ${certId} has no DNS names in its SANs: no SNI name selects it`)
    }
    return {file: certificateFile(certDir, certId), certId, sniFilters: dnsNames}
  })
  return {path: crtListFile(certDir), entries}
}

export interface HaPeersOption {
  local: {name: string; address: string}
  remote: {name: string; address: string}
  /** TCP port of the peers protocol on both peer addresses. */
  port: number
}

export const PEERS_SECTION_NAME = 'lbaas_peers'
/** HAProxy's peers protocol port (Octavia uses 1025 too). */
export const DEFAULT_PEERS_PORT = 1025

export const LOG_RING_NAME = 'lbaas-log'
/** HAProxy 2.6 refuses longer UNIX socket paths ("too long (max 97)"). */
export const MAX_STATS_SOCKET_PATH_BYTES = 97
export const DEFAULT_LOG_RING_BYTES = 65_536
export const HTTP_COOKIE_NAME = 'SRV'

const DEFAULT_TIMEOUTS = {connect: 5_000, client: 50_000, server: 50_000}
const STATS_TIMEOUT = 30_000
const STICK_TABLE_SIZE = '10k'
const STICK_EXPIRE = 30 * 60_000
const APP_COOKIE_KEY_LENGTH = 64

const BALANCE: Record<PoolGraph['pool']['lb_method'], Balance> = {
  ROUND_ROBIN: 'roundrobin',
  LEAST_CONNECTIONS: 'leastconn',
  SOURCE_IP: 'source',
}

function internal(message: string): RuntimeFailure {
  return new RuntimeFailure('haproxy_render', `internal error while building the HAProxy configuration: ${message}`)
}

/** The global and defaults parts every lbaas configuration shares. */
export function buildProcessView(options: RenderOptions): Pick<HaproxyView, 'global' | 'defaults' | 'logRing'> {
  if (!Number.isSafeInteger(options.maxconn) || options.maxconn < 1) {
    throw internal(`global maxconn must be a positive integer, not ${options.maxconn}`)
  }
  for (const [field, path] of [
    ['statsSocket', options.statsSocket],
    ['serverStateFile', options.serverStateFile],
  ] as const) {
    if (!path.startsWith('/')) throw internal(`${field} must be an absolute path, not ${JSON.stringify(path)}`)
  }
  if (Buffer.byteLength(options.statsSocket) > MAX_STATS_SOCKET_PATH_BYTES) {
    throw new UsageError(
      `the stats socket path ${JSON.stringify(options.statsSocket)} is longer than the ${MAX_STATS_SOCKET_PATH_BYTES} bytes HAProxy accepts`,
      'choose a shorter --run-dir (at most 49 bytes leaves room for <pool id>/stats.sock)',
      'run_dir_too_long',
    )
  }
  const ringBytes = options.logRingBytes ?? DEFAULT_LOG_RING_BYTES
  const logRing = ringBytes > 0 ? {name: LOG_RING_NAME, sizeBytes: ringBytes, maxLineLength: 2048} : null
  return {
    global: {
      maxconn: options.maxconn,
      user: options.user,
      group: options.group,
      statsSocket: options.statsSocket,
      statsTimeout: STATS_TIMEOUT,
      serverStateFile: options.serverStateFile,
      hardStopAfter: parseDuration(options.hardStopAfter),
      logTarget: logRing ? `ring@${logRing.name}` : null,
    },
    defaults: {
      logGlobal: logRing !== null,
      loadServerStateFromFile: true,
      retries: 3,
      redispatch: true,
      timeouts: {...DEFAULT_TIMEOUTS},
    },
    logRing,
  }
}

/** Parses an HAProxy-style duration (`500ms`, `30s`, `5m`, `1h`, `1d`; bare numbers are ms). */
export function parseDuration(text: string): Milliseconds {
  const match = /^(\d{1,9})(ms|s|m|h|d)?$/.exec(text)
  if (!match) throw internal(`duration ${JSON.stringify(text)} must look like 500ms, 30s, 5m or 1h`)
  const factor = {ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000}[match[2] ?? 'ms']!
  return Number(match[1]) * factor
}

/**
 * `http-check expect rstatus` regex for a set of codes: anchored, numerically sorted.
 * Three or more codes in one run of ten collapse to a digit class (`20[0-3]`), and full
 * runs of ten to `2[0-4][0-9]`, so `200-599` still fits on one line.
 */
export function expectedStatusRegex(codes: readonly number[]): string {
  const sorted = [...new Set(codes)].sort((a, b) => a - b)
  if (sorted.length === 0 || sorted.some((code) => !Number.isInteger(code) || code < 100 || code > 599)) {
    throw internal(`expected codes ${JSON.stringify(codes)} must be HTTP status codes 100–599`)
  }
  const decades = new Map<number, number[]>()
  for (const code of sorted) {
    const decade = Math.floor(code / 10)
    decades.set(decade, [...(decades.get(decade) ?? []), code % 10])
  }
  const alternatives: string[] = []
  let fullRun: {hundred: number; firstTen: number; lastTen: number} | undefined
  const flushFullRun = (): void => {
    if (!fullRun) return
    const {hundred, firstTen, lastTen} = fullRun
    const tens = firstTen === lastTen ? String(firstTen) : `[${firstTen}-${lastTen}]`
    alternatives.push(`${hundred}${tens}[0-9]`)
    fullRun = undefined
  }
  for (const [decade, digits] of decades) {
    const hundred = Math.floor(decade / 10)
    const ten = decade % 10
    if (digits.length === 10) {
      if (fullRun && fullRun.hundred === hundred && fullRun.lastTen === ten - 1) fullRun.lastTen = ten
      else {
        flushFullRun()
        fullRun = {hundred, firstTen: ten, lastTen: ten}
      }
      continue
    }
    flushFullRun()
    if (digits.length < 3) alternatives.push(...digits.map((digit) => `${decade}${digit}`))
    else alternatives.push(`${decade}[${digitClass(digits)}]`)
  }
  flushFullRun()
  return `^(${alternatives.join('|')})$`
}

function digitClass(digits: number[]): string {
  const parts: string[] = []
  let start = digits[0]
  let previous = digits[0]
  for (const digit of [...digits.slice(1), Number.NaN]) {
    if (digit === previous + 1) {
      previous = digit
      continue
    }
    parts.push(previous - start >= 2 ? `${start}-${previous}` : start === previous ? `${start}` : `${start}${previous}`)
    start = digit
    previous = digit
  }
  return parts.join('')
}

function modeOf(protocol: Protocol): ProxyMode {
  return protocol === 'HTTP' ? 'http' : 'tcp'
}

function healthCheckOf(monitor: Monitor): HealthCheckView {
  if (monitor.type === 'PING' || monitor.type === 'TCP') return {kind: 'tcp'}
  return {
    kind: 'http',
    method: monitor.http_method,
    path: monitor.url_path,
    expectStatus: expectedStatusRegex(expandExpectedCodes(monitor.expected_codes)),
  }
}

function monitorWarnings(protocol: Protocol, monitor: Monitor): string[] {
  if (protocol === 'HTTPS' && monitor.type === 'HTTP') {
    return [
      `monitor ${monitor.id} sends plain HTTP, but the pool's members speak TLS (HTTPS pass-through): the checks will fail; use an HTTPS monitor`,
    ]
  }
  if (protocol !== 'HTTPS' && monitor.type === 'HTTPS') {
    return [`monitor ${monitor.id} checks over TLS, but the pool is ${protocol}: the checks fail unless the members speak TLS`]
  }
  return []
}

function persistenceOf(graph: PoolGraph, servers: ServerView[], warnings: string[]): PersistenceView | null {
  const persistence = graph.vip?.session_persistence ?? null
  if (!persistence) return null
  const protocol = graph.pool.protocol
  if (persistence.type === 'SOURCE_IP') {
    const family = canonicalAddress(graph.vip!.address)?.family
    return {kind: 'source', tableType: family === 6 ? 'ipv6' : 'ip', tableSize: STICK_TABLE_SIZE, expire: STICK_EXPIRE}
  }
  if (protocol !== 'HTTP') {
    warnings.push(
      protocol === 'HTTPS'
        ? `HTTPS is TLS pass-through: HAProxy cannot see cookies, so ${persistence.type} persistence has no effect; use SOURCE_IP`
        : `a TCP pool does not parse HTTP: ${persistence.type} persistence has no effect; use SOURCE_IP`,
    )
    // HAProxy ignores `cookie` in tcp mode with two warnings per server; leave it out.
    if (persistence.type === 'HTTP_COOKIE') return null
  }
  if (persistence.type === 'HTTP_COOKIE') {
    // An insert cookie without servers used to break HAProxy (neutron bug #1302283).
    if (servers.length === 0) return null
    for (const server of servers) server.cookie = server.name
    return {kind: 'insert-cookie', cookieName: HTTP_COOKIE_NAME}
  }
  return {
    kind: 'app-cookie',
    cookieName: persistence.cookie_name,
    keyLength: APP_COOKIE_KEY_LENGTH,
    tableSize: STICK_TABLE_SIZE,
    expire: STICK_EXPIRE,
  }
}

function serverOf(member: Member, check: ServerCheckView | null): ServerView {
  const canonical = canonicalAddress(member.address)
  if (!canonical) throw internal(`member ${member.id} has address ${JSON.stringify(member.address)}, not an IP address`)
  return {
    name: member.id,
    address: canonical.address,
    port: member.protocol_port,
    weight: member.weight,
    backup: false,
    disabled: !member.admin_state_up,
    check: check ? {...check} : null,
    cookie: null,
  }
}

/**
 * The view of one deployed pool: the VIP's frontend (none when the pool has no VIP) and
 * the pool's backend. Section and server names are ids; no name or description is used.
 */
export function buildPoolView(graph: PoolGraph, options: RenderOptions): HaproxyView {
  const {pool, vip} = graph
  const warnings: string[] = []
  const process = buildProcessView(options)
  const mode = modeOf(pool.protocol)
  const monitor = drivingMonitor(graph)
  if (monitor) warnings.push(...monitorWarnings(pool.protocol, monitor))
  const check: ServerCheckView | null = monitor
    ? {
        interval: monitor.delay * 1_000,
        fall: monitor.max_retries,
        rise: monitor.max_retries,
        overTls: monitor.type === 'HTTPS',
      }
    : null
  const servers = graph.members
    .filter((member) => member.status !== 'PENDING_DELETE')
    .map((member) => serverOf(member, check))
  if (servers.length === 0) warnings.push(`pool ${pool.id} has no members: HAProxy answers every request with an error (503 for HTTP)`)

  const backend: BackendView = {
    name: pool.id,
    mode,
    balance: BALANCE[pool.lb_method],
    forwardFor: pool.protocol === 'HTTP',
    timeouts: {connect: null, server: null, check: monitor ? monitor.timeout * 1_000 : null},
    retries: null,
    healthCheck: monitor ? healthCheckOf(monitor) : null,
    persistence: persistenceOf(graph, servers, warnings),
    servers,
    disabled: !pool.admin_state_up,
  }

  // A copy of the access log for the VIP's syslog server; only where there is logging at all.
  if (vip?.syslog && process.logRing) {
    const {address, port} = ipEndpoint('syslog', vip.syslog)
    process.global.syslog = {address, port}
  }

  const frontends: FrontendView[] = []
  let crtList: CrtListView | null = null
  if (vip) {
    const address = canonicalAddress(vip.address)
    if (!address) throw internal(`VIP ${vip.id} has address ${JSON.stringify(vip.address)}, not an IP address`)
    let maxconn = process.global.maxconn
    if (vip.connection_limit >= 1) {
      maxconn = Math.min(vip.connection_limit, process.global.maxconn)
      if (vip.connection_limit > process.global.maxconn) {
        warnings.push(
          `connection_limit ${vip.connection_limit} is above this host's HAProxy maxconn ${process.global.maxconn}; HAProxy accepts at most ${process.global.maxconn}`,
        )
      }
    }
    const terminated = vip.protocol === 'TERMINATED_HTTPS'
    if (terminated && !options.certDir) throw internal('a TERMINATED_HTTPS VIP needs RenderOptions.certDir')
    crtList = terminated ? buildCrtList(vip, graph.certs, options.certDir!, warnings) : null
    frontends.push({
      name: vip.id,
      mode,
      binds: [
        {
          address: address.address,
          port: vip.protocol_port,
          tls: crtList ? {crtList: crtList.path, alpn: [...TLS_ALPN], minVersion: TLS_MIN_VERSION} : null,
        },
      ],
      maxconn,
      // Without a log target HAProxy warns that the log format is ignored.
      log: process.logRing ? (mode === 'http' ? 'http' : 'tcp') : null,
      idleCloseOnResponse: mode === 'http',
      timeoutClient: null,
      setHeaders: terminated ? [{name: 'X-Forwarded-Proto', value: 'https'}] : [],
      redirectToHttpsPort: null,
      defaultBackend: pool.id,
      disabled: !vip.admin_state_up,
    })
    if (terminated && vip.redirect_http) {
      frontends.push({
        name: `${vip.id}-redirect`,
        mode: 'http',
        binds: [{address: address.address, port: HTTP_PORT, tls: null}],
        maxconn,
        log: process.logRing ? 'http' : null,
        idleCloseOnResponse: true,
        timeoutClient: null,
        setHeaders: [],
        redirectToHttpsPort: vip.protocol_port,
        defaultBackend: pool.id,
        disabled: !vip.admin_state_up,
      })
    }
  }

  const peers = peersViewOf(options.haPeers)
  if (peers && backend.persistence && backend.persistence.kind !== 'insert-cookie') backend.persistence.peers = peers.name

  return {
    header: [
      `generated by lbaas for pool ${pool.id}; do not edit, every change is overwritten`,
      // A rotated certificate changes the file, so sync and DISCOVER see what HAProxy serves.
      ...(crtList ? graph.certs.map((cert) => `certificate ${cert.id} sha256 ${bundleDigest(cert)}`) : []),
    ],
    ...process,
    frontends,
    backends: [backend],
    crtList,
    peers,
    warnings,
  }
}

function peersViewOf(option: HaPeersOption | undefined): PeersView | null {
  if (!option) return null
  const peers = [option.local, option.remote].map((peer) => {
    const address = canonicalAddress(peer.address)
    if (!address) throw internal(`HA peer ${peer.name} has address ${JSON.stringify(peer.address)}, not an IP address`)
    return {name: peer.name, address: address.address, port: option.port}
  })
  if (peers[0].name === peers[1].name || peers[0].address === peers[1].address) throw internal('the two HA peers must differ in name and address')
  // Sorted by name: both peers render the section identically.
  return {name: PEERS_SECTION_NAME, localName: option.local.name, peers: peers.sort((a, b) => a.name.localeCompare(b.name))}
}
