/**
 * Libra's LBaaSController (libra/worker/controller.py) for one device: dispatch on
 * `hpcs_action` (case-insensitive, echoed as sent), Libra's request checks and response
 * shapes (libra.md §2), and `hpcs_error` on every FAIL. Never throws: whatever happens,
 * the answer is a JSON object.
 */
import {memberHealth} from '../../domain/status.js'
import {LbaasError} from '../../domain/errors.js'
import type {ArchivedObject, SwiftTarget} from './archive.js'
import type {DiagnosticsResult} from './diagnostics.js'
import {nodeIdOf} from './device-view.js'
import {
  badRequest,
  ERROR_FIELD,
  fail,
  isObject,
  LIBRA_ACTIONS,
  pass,
  pythonText,
  REDACTED_TOKEN,
  RESPONSE_FIELD,
  type LibraRequest,
  type LibraResponse,
} from './messages.js'
import type {MetricsReport} from './counters.js'
import type {DeviceStatus} from './device.js'
import {disableAllNodes, parseUpdate, type DeviceSpec} from './update.js'

/** What the controller needs from the device (LibraDevice in production, a fake in unit tests). */
export interface LibraDeviceBackend {
  update(spec: DeviceSpec): Promise<unknown>
  suspend(): Promise<void>
  enable(): Promise<void>
  remove(): Promise<void>
  status(): Promise<DeviceStatus>
  metrics(): Promise<MetricsReport | 'deleted'>
  logLines(protocol: 'http' | 'tcp'): Promise<string[] | null>
  markArchived(lines: readonly string[]): void
}

export interface LibraControllerOptions {
  device: LibraDeviceBackend
  version: string
  release: string
  diagnostics(): Promise<DiagnosticsResult>
  upload(target: SwiftTarget, lines: readonly string[]): Promise<ArchivedObject>
}

export type LibraResult = 'PASS' | 'FAIL' | 'BAD_REQUEST'

export interface LibraOutcome {
  response: LibraResponse
  result: LibraResult
  /** The action as Libra dispatches it (upper case), or what was sent when unusable. */
  action: string
  error?: string
}

function outcomeOf(action: string, response: LibraResponse): LibraOutcome {
  if ('badRequest' in response) {
    const message = (response.badRequest as {validationErrors: {message: string}}).validationErrors.message
    return {response, action, result: 'BAD_REQUEST', error: message}
  }
  const result = response[RESPONSE_FIELD] === 'PASS' ? 'PASS' : 'FAIL'
  const error = typeof response[ERROR_FIELD] === 'string' ? (response[ERROR_FIELD] as string) : undefined
  return {response, action, result, error}
}

function messageOf(error: unknown): string {
  if (error instanceof LbaasError || error instanceof Error) return error.message
  return String(error)
}

export async function handleLibra(request: LibraRequest, options: LibraControllerOptions): Promise<LibraOutcome> {
  if (!('hpcs_action' in request)) return outcomeOf('', fail(request, "Missing 'hpcs_action' element"))
  if (typeof request.hpcs_action !== 'string') {
    return outcomeOf(pythonText(request.hpcs_action), fail(request, "'hpcs_action' must be a string"))
  }
  const action = request.hpcs_action.toUpperCase()
  if (!(LIBRA_ACTIONS as readonly string[]).includes(action)) {
    return outcomeOf(action, fail(request, `Invalid 'hpcs_action' value: ${request.hpcs_action}`))
  }
  try {
    return outcomeOf(action, await dispatch(action, request, options))
  } catch (error) {
    return outcomeOf(action, fail(action === 'ARCHIVE' ? redactToken(request) : request, messageOf(error)))
  }
}

async function dispatch(action: string, request: LibraRequest, options: LibraControllerOptions): Promise<LibraResponse> {
  const {device} = options
  switch (action) {
    case 'UPDATE':
      return update(request, device)
    case 'SUSPEND':
      await device.suspend()
      return pass(request)
    case 'ENABLE':
      await device.enable()
      return pass(request)
    case 'DELETE':
      await device.remove()
      return pass(request)
    case 'DISCOVER':
      return pass(request, {version: options.version, release: options.release})
    case 'STATS':
      return stats(request, await device.status())
    case 'METRICS':
      return metrics(request, await device.metrics())
    case 'DIAGNOSTICS':
      return pass(request, {...(await options.diagnostics())})
    case 'ARCHIVE':
      return archive(request, options)
    default:
      return fail(request, `Invalid 'hpcs_action' value: ${action}`)
  }
}

async function update(request: LibraRequest, device: LibraDeviceBackend): Promise<LibraResponse> {
  const parsed = parseUpdate(request)
  if (parsed.kind === 'badRequest') return badRequest(parsed.message)
  if (parsed.kind === 'fail') return fail(parsed.echo, parsed.message)
  // Checking 1,000 nodes takes milliseconds of CPU: let the pings that came in meanwhile go first.
  await new Promise((resolve) => setImmediate(resolve))
  try {
    await device.update(parsed.spec)
  } catch (error) {
    disableAllNodes(parsed.echo)
    return fail(parsed.echo, messageOf(error))
  }
  return pass(parsed.echo)
}

/** Libra's two words: UP while HAProxy sends traffic to the node (`UP`, `UP 1/3`, `DRAIN`, `no check`), DOWN otherwise. */
export function libraNodeStatus(haproxyStatus: string): 'UP' | 'DOWN' {
  const {operating_status: operating} = memberHealth(haproxyStatus)
  return operating === 'ONLINE' || operating === 'DRAINING' || operating === 'NO_MONITOR' ? 'UP' : 'DOWN'
}

function stats(request: LibraRequest, status: DeviceStatus): LibraResponse {
  switch (status.kind) {
    case 'deleted':
      return fail(request, 'Invalid operation STATS on a deleted LB.', {status: 'DELETED'})
    case 'down':
      return fail(request, 'HAProxy is not running.')
    case 'suspended':
      // Libra failed here, which its admin API took for a broken device and rebuilt it.
      return pass(request, {nodes: status.nodeIds.map((id) => ({id, status: 'DOWN'})), status: 'SUSPENDED'})
    case 'running':
      return pass(request, {
        nodes: status.servers.map((server) => ({id: nodeIdOf(server.nodeServer), status: libraNodeStatus(server.status)})),
      })
  }
}

function metrics(request: LibraRequest, report: MetricsReport | 'deleted'): LibraResponse {
  if (report === 'deleted') return fail(request, 'Invalid operation METRICS on a deleted LB.', {status: 'DELETED'})
  return pass(request, {utc_start: report.utcStart, utc_end: report.utcEnd, loadBalancers: report.loadBalancers})
}

const ARCHIVE_FIELDS = [
  'hpcs_object_store_basepath',
  'hpcs_object_store_endpoint',
  'hpcs_object_store_token',
  'loadBalancers',
] as const

function redactToken(request: LibraRequest): LibraRequest {
  return 'hpcs_object_store_token' in request ? {...request, hpcs_object_store_token: REDACTED_TOKEN} : request
}

async function archive(request: LibraRequest, options: LibraControllerOptions): Promise<LibraResponse> {
  if (!('hpcs_object_store_type' in request)) return badRequest("Missing 'hpcs_object_store_type' element")
  const storeType = pythonText(request.hpcs_object_store_type)
  if (storeType.toLowerCase() !== 'swift') return badRequest(`'${storeType}' is not a valid store type`)
  for (const field of ARCHIVE_FIELDS) {
    if (!(field in request)) return badRequest(`Missing '${field}' element`)
  }
  const echo = redactToken(request)
  const strings = ['hpcs_object_store_basepath', 'hpcs_object_store_endpoint', 'hpcs_object_store_token'] as const
  for (const field of strings) {
    if (typeof request[field] !== 'string' || request[field] === '') return fail(echo, `'${field}' must be a non-empty string`)
  }
  const list = request.loadBalancers
  const first = Array.isArray(list) ? list[0] : undefined
  if (!isObject(first)) return fail(echo, "'loadBalancers' must list the load balancer to archive")
  if (!('id' in first) || first.id === null || first.id === '') return fail(echo, "Missing load balancer 'id'")
  const protocol = typeof first.protocol === 'string' ? first.protocol.toUpperCase() : ''
  if (!['HTTP', 'TCP', 'GALERA'].includes(protocol)) return fail(echo, `Unsupported protocol: ${pythonText(first.protocol).toLowerCase()}`)
  const lines = await options.device.logLines(protocol === 'HTTP' ? 'http' : 'tcp')
  if (!lines) return fail(echo, 'No HAProxy logs found')
  try {
    await options.upload(
      {
        endpoint: request.hpcs_object_store_endpoint as string,
        basepath: request.hpcs_object_store_basepath as string,
        token: request.hpcs_object_store_token as string,
        lbid: pythonText(first.id),
      },
      lines,
    )
  } catch (error) {
    return fail(echo, `Failure during Swift operations. Swift enabled?\nException was: ${messageOf(error)}`)
  }
  options.device.markArchived(lines)
  return pass(echo)
}
