/**
 * Formats an HaproxyView as an HAProxy 2.6 configuration. Pure and deterministic: the same
 * view gives the same bytes. Makes no decisions (see view.ts); it only writes, and it
 * re-checks every variable word (words.ts) so that no value can add a line, a directive
 * or a comment. Throws RuntimeFailure `haproxy_render_unsafe` when a value cannot be
 * written safely.
 */
import {RuntimeFailure} from '../domain/errors.js'
import {canonicalAddress} from '../domain/ip.js'
import type {
  BackendView,
  BindView,
  CrtListView,
  DefaultsView,
  FrontendView,
  GlobalView,
  HaproxyView,
  LogRingView,
  Milliseconds,
  PeersView,
  PersistenceView,
  ServerView,
} from './view.js'
import {assertHaproxyName, directive, sampleFetchArgument} from './words.js'

const INDENT = '    '

function unsafe(message: string): RuntimeFailure {
  return new RuntimeFailure('haproxy_render_unsafe', `internal error while rendering the HAProxy configuration: ${message}`)
}

/** `30s`, `5m`, `1h`, `250ms`: the largest unit that divides the duration. */
export function formatDuration(milliseconds: Milliseconds): string {
  if (!Number.isSafeInteger(milliseconds) || milliseconds < 0) throw unsafe(`duration ${milliseconds} ms is not valid`)
  if (milliseconds === 0) return '0s'
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ] as const) {
    if (milliseconds % size === 0) return `${milliseconds / size}${unit}`
  }
  return `${milliseconds}ms`
}

function count(value: number, what: string, minimum: number, maximum = Number.MAX_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw unsafe(`${what} ${value} must be an integer from ${minimum} to ${maximum}`)
  }
  return value
}

/** `198.18.0.1:80` or `[2001:db8::1]:80`: brackets keep IPv6 unambiguous for HAProxy. */
function endpoint(address: string, port: number): string {
  if (canonicalAddress(address)?.address !== address) throw unsafe(`${JSON.stringify(address)} is not a canonical IP address`)
  count(port, 'port', 1, 65_535)
  return address.includes(':') ? directive`[${address}]:${port}` : directive`${address}:${port}`
}

function indent(lines: string[]): string[] {
  return lines.map((line) => INDENT + line)
}

export function headerLines(header: readonly string[]): string[] {
  return header.map((text) => {
    if (/[\x00-\x1f\x7f]/.test(text)) throw unsafe(`header comment ${JSON.stringify(text)} contains a control character`)
    return `# ${text}`
  })
}

export function globalSection(global: GlobalView): string[] {
  const body = [
    directive`maxconn ${count(global.maxconn, 'maxconn', 1)}`,
    directive`user ${global.user}`,
    directive`group ${global.group}`,
    directive`stats socket ${global.statsSocket} mode 600 level admin expose-fd listeners`,
    directive`stats timeout ${formatDuration(global.statsTimeout)}`,
    directive`server-state-file ${global.serverStateFile}`,
    directive`hard-stop-after ${formatDuration(global.hardStopAfter)}`,
    // HAProxy's internal HTTP client (for Lua scripts, and OCSP updates from 2.8: lbaas uses
    // neither) defaults to verifying against @system-ca, so every `haproxy -c`, start and
    // master re-exec (two per reload) parsed the whole system trust store: ~50 ms of CPU each
    // (BENCHMARKS.md). An OpenSSL build is required for the keyword (doctor checks it).
    'httpclient.ssl.verify none',
  ]
  if (global.logTarget) body.push(directive`log ${global.logTarget} local0`)
  if (global.syslog) body.push(`log ${endpoint(global.syslog.address, global.syslog.port)} format rfc5424 local0`)
  return ['global', ...indent(body)]
}

function localPeerLine(peers: PeersView | null): string[] {
  return peers ? [INDENT + directive`localpeer ${assertHaproxyName(peers.localName, 'peer')}`] : []
}

export function defaultsSection(defaults: DefaultsView): string[] {
  const body: string[] = []
  if (defaults.logGlobal) body.push('log global')
  if (defaults.loadServerStateFromFile) body.push('load-server-state-from-file global')
  body.push(directive`retries ${count(defaults.retries, 'retries', 0)}`)
  if (defaults.redispatch) body.push('option redispatch')
  body.push(
    directive`timeout connect ${formatDuration(defaults.timeouts.connect)}`,
    directive`timeout client ${formatDuration(defaults.timeouts.client)}`,
    directive`timeout server ${formatDuration(defaults.timeouts.server)}`,
  )
  return ['defaults', ...indent(body)]
}

export function logRingSection(ring: LogRingView): string[] {
  return [
    directive`ring ${assertHaproxyName(ring.name, 'ring')}`,
    ...indent([
      'format timed',
      directive`maxlen ${count(ring.maxLineLength, 'ring maxlen', 80)}`,
      directive`size ${count(ring.sizeBytes, 'ring size', 16_384)}`,
    ]),
  ]
}

const ALPN_PROTOCOL = /^(h2|http\/1\.1|http\/1\.0)$/

export function bindLine(bind: BindView): string {
  let line = directive`bind ` + endpoint(bind.address, bind.port)
  if (bind.tls) {
    if (bind.tls.alpn.length === 0 || !bind.tls.alpn.every((protocol) => ALPN_PROTOCOL.test(protocol))) {
      throw unsafe(`ALPN ${JSON.stringify(bind.tls.alpn)} must be h2, http/1.1 or http/1.0`)
    }
    if (!/^TLSv1\.[23]$/.test(bind.tls.minVersion)) throw unsafe(`TLS floor ${JSON.stringify(bind.tls.minVersion)} must be TLSv1.2 or TLSv1.3`)
    line += directive` ssl crt-list ${crtPath(bind.tls.crtList)} alpn ${bind.tls.alpn.join(',')} ssl-min-ver ${bind.tls.minVersion}`
  }
  return line
}

/** Header names are HTTP tokens and the values written here are fixed words. */
const HEADER_NAME = /^[A-Za-z0-9-]{1,64}$/
const HEADER_VALUE = /^[A-Za-z0-9._:/-]{1,128}$/

export function frontendSection(frontend: FrontendView): string[] {
  const body = [directive`mode ${frontend.mode}`]
  if (frontend.binds.length === 0) throw unsafe(`frontend ${frontend.name} has no bind address`)
  for (const bind of frontend.binds) body.push(bindLine(bind))
  body.push(directive`maxconn ${count(frontend.maxconn, 'frontend maxconn', 1)}`)
  if (frontend.log === 'http') body.push('option httplog')
  if (frontend.log === 'tcp') body.push('option tcplog')
  if (frontend.idleCloseOnResponse) body.push('option idle-close-on-response')
  if (frontend.timeoutClient !== null) body.push(directive`timeout client ${formatDuration(frontend.timeoutClient)}`)
  for (const header of frontend.setHeaders ?? []) {
    if (!HEADER_NAME.test(header.name) || !HEADER_VALUE.test(header.value)) throw unsafe(`header ${JSON.stringify(header)} is not a fixed token`)
    body.push(directive`http-request set-header ${header.name} ${header.value}`)
  }
  const redirectPort = frontend.redirectToHttpsPort ?? null
  if (redirectPort !== null) {
    // `redirect scheme` keeps the host and path; another port must be spelled out in the Location.
    if (count(redirectPort, 'redirect port', 1, 65_535) === 443) body.push('http-request redirect scheme https code 301')
    else body.push(directive`http-request redirect location https://%[req.hdr(host),field(1,:)]:${redirectPort}%[capture.req.uri] code 301`)
  }
  body.push(directive`default_backend ${assertHaproxyName(frontend.defaultBackend, 'backend')}`)
  if (frontend.disabled) body.push('disabled')
  return [directive`frontend ${assertHaproxyName(frontend.name, 'frontend')}`, ...indent(body)]
}

function peersSuffix(peers: string | undefined): string {
  return peers === undefined ? '' : directive` peers ${assertHaproxyName(peers, 'peers')}`
}

/** `peers` section: one `peer` line per HA peer; HAProxy binds the one named by `localpeer`. */
export function peersSection(peers: PeersView): string[] {
  if (peers.peers.length !== 2 || !peers.peers.some((peer) => peer.name === peers.localName)) {
    throw unsafe(`peers ${peers.name} must list exactly two peers, one of them ${peers.localName}`)
  }
  return [
    directive`peers ${assertHaproxyName(peers.name, 'peers')}`,
    ...indent(peers.peers.map((peer) => directive`peer ${assertHaproxyName(peer.name, 'peer')} ` + endpoint(peer.address, peer.port))),
  ]
}

function persistenceLines(persistence: PersistenceView): string[] {
  switch (persistence.kind) {
    case 'source':
      return [
        directive`stick-table type ${persistence.tableType} size ${persistence.tableSize} expire ${formatDuration(persistence.expire)}` +
          peersSuffix(persistence.peers),
        'stick on src',
      ]
    case 'insert-cookie':
      return [directive`cookie ${persistence.cookieName} insert indirect nocache`]
    case 'app-cookie': {
      const cookie = sampleFetchArgument(persistence.cookieName)
      return [
        directive`stick-table type string len ${count(persistence.keyLength, 'key length', 1)} size ${persistence.tableSize} expire ${formatDuration(persistence.expire)}` +
          peersSuffix(persistence.peers),
        directive`stick store-response res.cook(${cookie})`,
        directive`stick match req.cook(${cookie})`,
      ]
    }
  }
}

export function serverLine(server: ServerView): string {
  let line = directive`server ${assertHaproxyName(server.name, 'server')} ` + endpoint(server.address, server.port)
  line += directive` weight ${count(server.weight, 'weight', 0, 256)}`
  if (server.backup) line += ' backup'
  if (server.disabled) line += ' disabled'
  if (server.check) {
    line += ' check'
    if (server.check.overTls) line += ' check-ssl verify none'
    line += directive` inter ${formatDuration(server.check.interval)}`
    if (server.check.fall !== null) line += directive` fall ${count(server.check.fall, 'fall', 1)}`
    if (server.check.rise !== null) line += directive` rise ${count(server.check.rise, 'rise', 1)}`
  }
  if (server.cookie !== null) line += directive` cookie ${server.cookie}`
  return line
}

export function backendSection(backend: BackendView): string[] {
  const body = [directive`mode ${backend.mode}`, directive`balance ${backend.balance}`]
  if (backend.forwardFor) body.push('option forwardfor')
  if (backend.timeouts.connect !== null) body.push(directive`timeout connect ${formatDuration(backend.timeouts.connect)}`)
  if (backend.timeouts.server !== null) body.push(directive`timeout server ${formatDuration(backend.timeouts.server)}`)
  if (backend.retries !== null) body.push(directive`retries ${count(backend.retries, 'retries', 0)}`)
  if (backend.timeouts.check !== null) body.push(directive`timeout check ${formatDuration(backend.timeouts.check)}`)
  const check = backend.healthCheck
  if (check?.kind === 'http') {
    body.push('option httpchk', directive`http-check send meth ${check.method} uri ${check.path}`)
    if (check.expectStatus !== null) body.push(directive`http-check expect rstatus ${check.expectStatus}`)
  }
  if (backend.persistence) body.push(...persistenceLines(backend.persistence))
  body.push(...backend.servers.map(serverLine))
  if (backend.disabled) body.push('disabled')
  return [directive`backend ${assertHaproxyName(backend.name, 'backend')}`, ...indent(body)]
}

/** A path HAProxy reads from a configuration or crt-list line: absolute, no space, quote or comment character. */
function crtPath(path: string): string {
  if (!/^\/[A-Za-z0-9_.\/-]+$/.test(path)) throw unsafe(`certificate path ${JSON.stringify(path)} must be absolute and plain (A-Z a-z 0-9 _ . / -)`)
  return path
}

const SNI_FILTER = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/

/** The crt-list file: one certificate per line, the default first, each with its SNI names. */
export function renderCrtList(list: CrtListView): string {
  if (list.entries.length === 0) throw unsafe('a crt-list needs at least one certificate')
  const lines = list.entries.map((entry) => {
    for (const filter of entry.sniFilters) {
      if (!SNI_FILTER.test(filter)) throw unsafe(`SNI filter ${JSON.stringify(filter)} is not a DNS name`)
    }
    return [crtPath(entry.file), ...entry.sniFilters].join(' ')
  })
  return `${lines.join('\n')}\n`
}

/** The whole configuration file: sections separated by blank lines, ending with a newline. */
export function renderConfig(view: HaproxyView): string {
  const sections: string[][] = [
    [...headerLines(view.header), ...globalSection(view.global), ...localPeerLine(view.peers ?? null)],
    defaultsSection(view.defaults),
  ]
  if (view.logRing) sections.push(logRingSection(view.logRing))
  if (view.peers) sections.push(peersSection(view.peers))
  sections.push(...view.frontends.map(frontendSection), ...view.backends.map(backendSection))
  return `${sections.map((lines) => lines.join('\n')).join('\n\n')}\n`
}
