/**
 * ARCHIVE to a Swift-compatible object store over HTTP (libra.md §2.5, §3.5): gzip the log
 * lines of one protocol, then `PUT <endpoint>/<basepath>` (create the container) and
 * `PUT <endpoint>/<basepath>/<lbid>/haproxy-<ts>.log.gz` with `X-Auth-Token` and the MD5
 * of the body as `ETag` (Swift checks it and refuses a corrupted upload). No temporary
 * files: the log is small (HAProxy's in-memory ring) and stays in memory.
 */
import {createHash} from 'node:crypto'
import {promisify} from 'node:util'
import {gzip} from 'node:zlib'

const gzipAsync = promisify(gzip)
const SWIFT_TIMEOUT_MS = 30_000

export interface SwiftTarget {
  endpoint: string
  basepath: string
  token: string
  /** The load balancer id: the first part of the object name. */
  lbid: string
}

export interface ArchivedObject {
  url: string
  etag: string
  bytes: number
}

/** `haproxy-YYYYmmdd-HHMMSS.log.gz`, in UTC, as Libra named its uploads. */
export function archiveObjectName(now: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0')
  const stamp =
    `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}-` +
    `${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`
  return `haproxy-${stamp}.log.gz`
}

export function md5Hex(data: Buffer): string {
  return createHash('md5').update(data).digest('hex')
}

function objectUrl(endpoint: string, ...segments: string[]): string {
  const base = new URL(endpoint)
  if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new Error(`unsupported endpoint scheme ${base.protocol}`)
  const path = base.pathname.replace(/\/+$/, '')
  base.pathname = `${path}/${segments.map(encodeURIComponent).join('/')}`
  return base.toString()
}

async function put(url: string, token: string, body: Buffer | undefined, headers: Record<string, string> = {}): Promise<void> {
  const response = await fetch(url, {
    method: 'PUT',
    headers: {'X-Auth-Token': token, 'Content-Length': String(body?.length ?? 0), ...headers},
    body,
    signal: AbortSignal.timeout(SWIFT_TIMEOUT_MS),
  })
  await response.arrayBuffer().catch(() => undefined)
  if (response.status < 200 || response.status > 299) {
    throw new Error(`PUT ${new URL(url).pathname} answered ${response.status} ${response.statusText}`)
  }
}

/** Uploads `lines`; throws an Error whose message the ARCHIVE FAIL carries. Never puts the token in a message. */
export async function uploadToSwift(target: SwiftTarget, lines: readonly string[], now = new Date()): Promise<ArchivedObject> {
  const body = await gzipAsync(Buffer.from(`${lines.join('\n')}\n`, 'utf8'))
  const etag = md5Hex(body)
  const url = objectUrl(target.endpoint, target.basepath, target.lbid, archiveObjectName(now))
  await put(objectUrl(target.endpoint, target.basepath), target.token, undefined)
  await put(url, target.token, body, {ETag: etag, 'Content-Type': 'application/gzip'})
  return {url, etag, bytes: body.length}
}
