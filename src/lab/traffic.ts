/**
 * A bounded burst of HTTP requests to a VIP, counted by the backend that answered (lab
 * backends name themselves in `X-Backend`). One request at a time, a new connection each,
 * so every request is balanced afresh and the count shows the balancing method.
 */
import {request} from 'node:http'

export interface BurstResult {
  /** Requests sent: fewer than asked when the VIP stopped answering altogether. */
  sent: number
  /** Requests answered, by backend name. */
  answeredBy: Map<string, number>
  /** Requests that failed, timed out, or answered without a backend name. */
  failed: number
}

function getBackendName(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({host, port, path: '/', timeout: timeoutMs, agent: false}, (res) => {
      const backend = res.headers['x-backend']
      res.resume()
      res.on('end', () => resolve(res.statusCode === 200 && typeof backend === 'string' ? backend : undefined))
      res.on('error', () => resolve(undefined))
    })
    req.on('timeout', () => req.destroy(new Error('timed out')))
    req.on('error', () => resolve(undefined))
    req.end()
  })
}

/** After this many failures in a row the VIP is not answering: stop instead of waiting out every timeout. */
const GIVE_UP_AFTER = 5

export async function sendBurst(options: {host: string; port: number; count: number; timeoutMs?: number; signal?: AbortSignal}): Promise<BurstResult> {
  const answeredBy = new Map<string, number>()
  let failed = 0
  let failedInARow = 0
  let sent = 0
  while (sent < options.count && failedInARow < GIVE_UP_AFTER) {
    options.signal?.throwIfAborted()
    const backend = await getBackendName(options.host, options.port, options.timeoutMs ?? 2_000)
    sent++
    if (backend === undefined) {
      failed++
      failedInARow++
    } else {
      failedInARow = 0
      answeredBy.set(backend, (answeredBy.get(backend) ?? 0) + 1)
    }
  }
  return {sent, answeredBy, failed}
}
