/**
 * The rules of SPEC §1, shared by the CLI flags, the prompts, and the Gearman messages.
 * Each function takes what the user typed (a string from argv or a JSON value) and returns
 * the canonical value, or throws ValidationError with code `invalid_<field>`.
 */
import {ValidationError} from './errors.js'
import {canonicalAddress, parseNetwork, type Family, type Network} from './ip.js'
import {
  LB_METHODS,
  MONITOR_TYPES,
  PERSISTENCE_TYPES,
  PROTOCOLS,
  VIP_PROTOCOLS,
  type LbMethod,
  type MonitorType,
  type PersistenceType,
  type Protocol,
  type SessionPersistence,
  type VipProtocol,
} from './types.js'

export const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export function looksLikeId(text: string): boolean {
  return UUID_PATTERN.test(text)
}

const CONTROL_OR_BROKEN = /[\p{Cc}\p{Cs}]/u

function describe(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value)
  const shown = text.length > 40 ? `${text.slice(0, 40)}…` : text
  return JSON.stringify(shown)
}

function requireString(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new ValidationError(field, `${field} must be a string`)
  return value
}

/** Subnet names: 1–64 of `[A-Za-z0-9._-]`, not shaped like an id. */
/** Certificate names are file-name safe (they name nothing on disk, but appear in crt-list comments and apply files). */
export function certificateName(value: unknown): string {
  const text = requireString('name', value)
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) {
    throw new ValidationError('name', `certificate name ${describe(text)} must be 1–64 characters of A-Z a-z 0-9 . _ -`)
  }
  rejectIdShape('name', text)
  return text
}

export function subnetName(value: unknown): string {
  const text = requireString('name', value)
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) {
    throw new ValidationError('name', `subnet name ${describe(text)} must be 1–64 characters of A-Z a-z 0-9 . _ -`)
  }
  rejectIdShape('name', text)
  return text
}

/** Monitor names (optional, SPEC §1): as subnet names. */
export function monitorName(value: unknown): string {
  const text = requireString('name', value)
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) {
    throw new ValidationError('name', `monitor name ${describe(text)} must be 1–64 characters of A-Z a-z 0-9 . _ -`)
  }
  rejectIdShape('name', text)
  return text
}

/** Stack labels of apply files (SPEC §8.1): as subnet names. */
export function stackName(value: unknown): string {
  const text = requireString('stack', value)
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) {
    throw new ValidationError('stack', `stack ${describe(text)} must be 1–64 characters of A-Z a-z 0-9 . _ -`)
  }
  return text
}

/** Pool and VIP names: 1–255 characters, no control characters, not shaped like an id. */
export function displayName(value: unknown, field = 'name'): string {
  const text = freeText(field, value, 255)
  if (text.length === 0) throw new ValidationError(field, `${field} must not be empty`)
  rejectIdShape(field, text)
  return text
}

/** Free text of at most `max` characters without control characters (descriptions). */
export function freeText(field: string, value: unknown, max = 255): string {
  const text = requireString(field, value)
  if (CONTROL_OR_BROKEN.test(text)) {
    throw new ValidationError(field, `${field} must not contain control characters (newline, tab, NUL, ...)`)
  }
  if ([...text].length > max) throw new ValidationError(field, `${field} must be at most ${max} characters`)
  return text
}

function rejectIdShape(field: string, text: string): void {
  if (looksLikeId(text)) {
    throw new ValidationError(field, `${field} ${describe(text)} looks like an id; choose a name that does not`)
  }
}

export function enumValue<T extends string>(field: string, value: unknown, allowed: readonly T[]): T {
  const text = requireString(field, value).toUpperCase()
  const match = allowed.find((candidate) => candidate === text)
  if (!match) throw new ValidationError(field, `${field} ${describe(value)} must be one of ${allowed.join(', ')}`)
  return match
}

export const protocol = (value: unknown): Protocol => enumValue('protocol', value, PROTOCOLS)
export const vipProtocol = (value: unknown): VipProtocol => enumValue('protocol', value, VIP_PROTOCOLS)
export const lbMethod = (value: unknown): LbMethod => enumValue('lb_method', value, LB_METHODS)
export const monitorType = (value: unknown): MonitorType => enumValue('type', value, MONITOR_TYPES)

/** Integers as JSON numbers or plain decimal strings (no sign tricks, hex, exponents or spaces). */
export function integer(field: string, value: unknown, min: number, max: number): number {
  let parsed: number | undefined
  if (typeof value === 'number' && Number.isInteger(value)) parsed = value
  else if (typeof value === 'string' && /^-?\d{1,12}$/.test(value)) parsed = Number(value)
  if (parsed === undefined) throw new ValidationError(field, `${field} ${describe(value)} is not an integer`)
  if (parsed < min || parsed > max) throw new ValidationError(field, `${field} must be between ${min} and ${max}`)
  return parsed
}

/** A duration in seconds, decimals allowed (`0.5`, `2`), within min…max. */
export function seconds(field: string, value: unknown, min: number, max: number): number {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && /^\d{1,6}(\.\d{1,3})?$/.test(value) ? Number(value) : Number.NaN
  if (!Number.isFinite(parsed)) throw new ValidationError(field, `${field} ${describe(value)} is not a number of seconds`)
  if (parsed < min || parsed > max) throw new ValidationError(field, `${field} must be between ${min} and ${max} seconds`)
  return parsed
}

export const protocolPort = (value: unknown): number => integer('protocol_port', value, 1, 65_535)
export const weight = (value: unknown): number => integer('weight', value, 0, 256)

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on'])
const FALSE_WORDS = new Set(['false', '0', 'no', 'off'])

export function bool(field: string, value: unknown): boolean {
  if (typeof value === 'boolean') return value
  const text = typeof value === 'string' ? value.toLowerCase() : typeof value === 'number' ? String(value) : ''
  if (TRUE_WORDS.has(text)) return true
  if (FALSE_WORDS.has(text)) return false
  throw new ValidationError(field, `${field} ${describe(value)} must be true or false`)
}

export function ipAddress(field: string, value: unknown): {address: string; family: Family} {
  const text = requireString(field, value)
  const parsed = canonicalAddress(text)
  if (!parsed) throw new ValidationError(field, `${field} ${describe(text)} is not an IPv4 or IPv6 address`)
  return parsed
}

/** `IPv4:PORT` or `[IPv6]:PORT` (no host names: the value may reach a configuration file). */
export function ipEndpoint(field: string, value: unknown): {address: string; port: number; family: Family; text: string} {
  const text = requireString(field, value)
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(text)
  const parsed = match ? canonicalAddress(match[1] ?? match[2]) : undefined
  if (!match || !parsed || (match[1] !== undefined) !== (parsed.family === 6)) {
    throw new ValidationError(field, `${field} ${describe(text)} is not ADDRESS:PORT`, 'for example 127.0.0.1:9120 or [::1]:9120')
  }
  const port = integer(field, match[3], 1, 65_535)
  return {address: parsed.address, port, family: parsed.family, text: parsed.family === 6 ? `[${parsed.address}]:${port}` : `${parsed.address}:${port}`}
}

/** A VIP's syslog server (SPEC §10): `IPv4:PORT` or `[IPv6]:PORT`, canonical; `none` or null clears it. No host names. */
export function syslogAddress(value: unknown): string | null {
  if (value === null || value === 'none') return null
  return ipEndpoint('syslog', value).text
}

/** A subnet's CIDR: IPv4 up to /30, IPv6 up to /126 (room for a gateway and a VIP). */
export function subnetCidr(cidr: unknown): Network {
  if (typeof cidr !== 'string') throw new ValidationError('cidr', 'cidr must be a string such as 198.18.0.0/24')
  const network = parseNetwork(cidr)
  if ('error' in network) throw new ValidationError('cidr', `cidr ${JSON.stringify(cidr)}: ${network.error}`)
  const longest = network.family === 4 ? 30 : 126
  if (network.prefix > longest) {
    throw new ValidationError('cidr', `cidr ${network.cidr} is too small: a subnet needs room for a gateway and VIPs (at most /${longest})`)
  }
  return network
}

/** Linux interface name of an existing bridge: at most 15 safe characters, not ours. */
export function bridgeName(value: unknown): string {
  const text = requireString('bridge', value)
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(text) || text === '.' || text === '..') {
    throw new ValidationError('bridge', `bridge ${describe(text)} must be 1–15 characters of A-Z a-z 0-9 _ . -`)
  }
  if (['lbbr-', 'lbv', 'lbl'].some((prefix) => text.startsWith(prefix))) {
    throw new ValidationError('bridge', `names starting with lbbr-, lbv or lbl are reserved for links lbaas manages`)
  }
  return text
}

// ---- health monitors -------------------------------------------------------------

export const delay = (value: unknown): number => integer('delay', value, 1, 86_400)
export const timeout = (value: unknown): number => integer('timeout', value, 1, 86_400)
export const maxRetries = (value: unknown): number => integer('max_retries', value, 1, 10)

export function timeoutWithinDelay(timeoutSeconds: number, delaySeconds: number): void {
  if (timeoutSeconds > delaySeconds) {
    throw new ValidationError('timeout', `timeout (${timeoutSeconds}s) must not exceed delay (${delaySeconds}s)`)
  }
}

export function httpMethod(value: unknown): string {
  const text = requireString('http_method', value)
  if (!/^[A-Z]{1,16}$/.test(text)) {
    throw new ValidationError('http_method', `http_method ${describe(text)} must be 1–16 upper-case letters, such as GET or HEAD`)
  }
  return text
}

export function urlPath(value: unknown): string {
  const text = requireString('url_path', value)
  if (!/^\/[\x21-\x7e]*$/.test(text) || text.length > 255) {
    throw new ValidationError(
      'url_path',
      `url_path ${describe(text)} must start with / and contain only visible ASCII characters (at most 255)`,
    )
  }
  return text
}

/**
 * `200`, `200,202`, `200-204` or a mix such as `200,201-203`; spaces after commas are
 * tolerated. Returns the canonical text (no spaces).
 */
export function expectedCodes(value: unknown): string {
  const text = requireString('expected_codes', value)
  const items = text.split(',').map((item) => item.replace(/^ +| +$/g, ''))
  if (text.length > 64 || items.some((item) => !/^\d{3}(-\d{3})?$/.test(item))) {
    throw new ValidationError(
      'expected_codes',
      `expected_codes ${describe(text)} must be codes or ranges such as 200, 200,202, 200-204 or 200,201-203`,
    )
  }
  for (const item of items) {
    const [low, high = low] = item.split('-').map(Number)
    for (const code of [low, high]) {
      if (code < 100 || code > 599) throw new ValidationError('expected_codes', `HTTP status ${code} is outside 100–599`)
    }
    if (low > high) throw new ValidationError('expected_codes', `range ${item} runs backwards; write ${high}-${low}`)
  }
  return items.join(',')
}

/** Every code `expectedCodes` text accepts, sorted and without duplicates. */
export function expandExpectedCodes(canonical: string): number[] {
  const codes = new Set<number>()
  for (const item of canonical.split(',')) {
    const [low, high = low] = item.split('-').map(Number)
    for (let code = low; code <= high; code++) codes.add(code)
  }
  return [...codes].sort((a, b) => a - b)
}

// ---- VIPs --------------------------------------------------------------------------

/** RFC 7230 token characters. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

export function cookieName(value: unknown): string {
  const text = requireString('cookie_name', value)
  if (!TOKEN.test(text) || text.length > 255) {
    throw new ValidationError('cookie_name', `cookie_name ${describe(text)} must be 1–255 HTTP token characters`)
  }
  return text
}

/**
 * `--session-persistence` text: `none`, `SOURCE_IP`, `HTTP_COOKIE` or `APP_COOKIE:NAME`.
 * Also accepts the JSON shape (`null` or `{type, cookie_name?}`) used by messages.
 */
export function sessionPersistence(value: unknown): SessionPersistence | null {
  if (value === null) return null
  let type: PersistenceType
  let cookie: unknown
  if (typeof value === 'string') {
    if (value.toLowerCase() === 'none') return null
    const separator = value.indexOf(':')
    const typeText = separator === -1 ? value : value.slice(0, separator)
    type = enumValue('session_persistence', typeText, PERSISTENCE_TYPES)
    cookie = separator === -1 ? undefined : value.slice(separator + 1)
  } else if (typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>
    type = enumValue('session_persistence', record.type, PERSISTENCE_TYPES)
    cookie = record.cookie_name
  } else {
    throw new ValidationError('session_persistence', 'session_persistence must be none, SOURCE_IP, HTTP_COOKIE or APP_COOKIE:NAME')
  }
  if (type === 'APP_COOKIE') {
    if (cookie === undefined || cookie === '' || cookie === null) {
      throw new ValidationError('cookie_name', 'APP_COOKIE needs a cookie name: --session-persistence APP_COOKIE:NAME')
    }
    return {type, cookie_name: cookieName(cookie)}
  }
  if (cookie !== undefined && cookie !== null) {
    throw new ValidationError('cookie_name', `a cookie name is only allowed with APP_COOKIE, not ${type}`)
  }
  return {type}
}

/** -1 (unlimited) or 1…the host's safe maximum (see `lbaas doctor`). */
export function connectionLimit(value: unknown, safeMaximum: number): number {
  const limit = integer('connection_limit', value, -1, Number.MAX_SAFE_INTEGER)
  if (limit === 0 || limit > safeMaximum) {
    throw new ValidationError(
      'connection_limit',
      `connection_limit must be -1 (unlimited) or between 1 and ${safeMaximum}, this host's safe maximum`,
      'see `lbaas doctor` for how the maximum is derived',
    )
  }
  return limit
}
