/**
 * `lbaas metrics serve`: `/metrics` over HTTP until SIGTERM or SIGINT. Scrapes that arrive
 * while one is being read share that reading, so a burst of scrapers costs one pass over
 * the pools. Imported lazily by the command.
 */
import {createServer, type Server} from 'node:http'

import {ConflictError, RuntimeFailure} from '../domain/errors.js'
import {ipEndpoint} from '../domain/validation.js'

export interface MetricsServerOptions {
  /** `IPv4:PORT` or `[IPv6]:PORT` as the operator typed it (validated here). */
  listen: string
  /** One full exposition; may reject (answered 500, the server keeps running). */
  scrape: () => Promise<string>
  contentType: string
  /** Called once the socket listens. */
  onListening?: (url: string) => void
}

/** Serves until a signal arrives; resolves after the server closed. Throws when it cannot listen. */
export async function serveMetrics(options: MetricsServerOptions): Promise<void> {
  const {address, port} = ipEndpoint('listen', options.listen)
  let inflight: Promise<string> | undefined
  const scrapeShared = () => {
    inflight ??= options.scrape().finally(() => (inflight = undefined))
    return inflight
  }
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0]
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, {allow: 'GET, HEAD'}).end()
    } else if (path === '/metrics') {
      scrapeShared().then(
        (body) => response.writeHead(200, {'content-type': options.contentType}).end(request.method === 'HEAD' ? undefined : body),
        (error: Error) => response.writeHead(500, {'content-type': 'text/plain'}).end(`scrape failed: ${error.message}\n`),
      )
    } else if (path === '/') {
      response.writeHead(200, {'content-type': 'text/html'}).end('<html><body><a href="/metrics">/metrics</a></body></html>\n')
    } else {
      response.writeHead(404, {'content-type': 'text/plain'}).end('not found: try /metrics\n')
    }
  })
  server.keepAliveTimeout = 30_000
  await listen(server, address, port)
  const shown = address.includes(':') ? `[${address}]` : address
  options.onListening?.(`http://${shown}:${port}/metrics`)
  await new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGTERM', stop)
      process.off('SIGINT', stop)
      server.close(() => resolve())
      server.closeAllConnections()
    }
    process.on('SIGTERM', stop)
    process.on('SIGINT', stop)
  })
}

function listen(server: Server, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${address.includes(':') ? `[${address}]` : address}:${port}`
      if (error.code === 'EADDRINUSE') reject(new ConflictError('address_in_use', `cannot listen on ${where}: the port is in use`, 'stop what listens there or choose another --listen ADDRESS:PORT'))
      else if (error.code === 'EADDRNOTAVAIL') reject(new RuntimeFailure('address_not_available', `cannot listen on ${where}: no interface of this host has that address`))
      else if (error.code === 'EACCES') reject(new RuntimeFailure('permission_denied', `cannot listen on ${where}: permission denied (ports below 1024 need root)`))
      else reject(new RuntimeFailure('listen_failed', `cannot listen on ${where}: ${error.message}`))
    })
    server.listen({host: address, port}, () => resolve())
  })
}
