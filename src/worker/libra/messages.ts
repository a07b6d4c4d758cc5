/**
 * OpenStack Libra's worker message conventions (reference/libra.md §2.1): the response is
 * the request object with fields added (`hpcs_response`, `hpcs_error`, ...), field names
 * are case-sensitive, and a missing required field answers a separate `badRequest` object
 * that does not echo the request.
 */

export type LibraRequest = Record<string, unknown>
export type LibraResponse = Record<string, unknown>

export const RESPONSE_FIELD = 'hpcs_response'
export const ERROR_FIELD = 'hpcs_error'
export const PASS = 'PASS'
export const FAIL = 'FAIL'
export const NODE_ENABLED = 'ENABLED'
export const NODE_DISABLED = 'DISABLED'
export const REDACTED_TOKEN = '*****'

export const LIBRA_ACTIONS = ['UPDATE', 'SUSPEND', 'ENABLE', 'DELETE', 'DISCOVER', 'ARCHIVE', 'STATS', 'METRICS', 'DIAGNOSTICS'] as const

/** Actions that answer at once and never wait behind an UPDATE (liveness pings, counters). */
export const QUICK_LIBRA_ACTIONS: ReadonlySet<string> = new Set(['STATS', 'METRICS', 'DISCOVER', 'DIAGNOSTICS'])

/** Libra's `badRequest` fault (libra/common/faults.py): no echo, no hpcs_response. */
export function badRequest(message: string): LibraResponse {
  return {
    badRequest: {
      code: '400',
      message: 'Validation fault',
      details: 'The object is not valid',
      validationErrors: {message},
    },
  }
}

/** The request echoed with PASS (Libra mutates the request in place; so do we, on a copy). */
export function pass(request: LibraRequest, extra: Record<string, unknown> = {}): LibraResponse {
  return {...request, ...extra, [RESPONSE_FIELD]: PASS}
}

/** The request echoed with FAIL; unlike Libra, every FAIL says why in `hpcs_error`. */
export function fail(request: LibraRequest, error: string, extra: Record<string, unknown> = {}): LibraResponse {
  return {...request, ...extra, [RESPONSE_FIELD]: FAIL, [ERROR_FIELD]: error}
}

/** A missing required field: the controller answers `badRequest(message)`. */
export class LibraBadRequest extends Error {}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Python's `str()` of a JSON value, for messages that quote what the caller sent. */
export function pythonText(value: unknown): string {
  if (typeof value === 'string') return value
  if (value === null || value === undefined) return 'None'
  if (value === true) return 'True'
  if (value === false) return 'False'
  return JSON.stringify(value)
}
