/**
 * A lab backend host's HTTP(S) server (SPEC §7), run inside a lab namespace:
 *
 *   node backend.js --name NAME --port 8000 --control-dir DIR [--tls-cert F --tls-key F] [--host ADDR]
 *
 * `GET /healthz` answers 200 `ok`, or 500 while `<control-dir>/unhealthy` exists;
 * `GET /headers` answers the request headers it received as JSON (what the load balancer
 * added: X-Forwarded-For, X-Forwarded-Proto); every other request answers 200 `NAME\n`
 * with `X-Backend: NAME`. Keep-alive is on; nothing is
 * logged per request. Once listening it writes its PID to `<control-dir>/listening`.
 * Imports only node built-ins, so it starts fast and stays small.
 */
import {existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import type {IncomingMessage, ServerResponse} from 'node:http'
import {parseArgs} from 'node:util'

const {values} = parseArgs({
  options: {
    name: {type: 'string'},
    port: {type: 'string', default: '8000'},
    host: {type: 'string'},
    'control-dir': {type: 'string'},
    'tls-cert': {type: 'string'},
    'tls-key': {type: 'string'},
  },
  strict: true,
})

function fail(message: string): never {
  process.stderr.write(`lab backend: ${message}\n`)
  process.exit(2)
}

const name = values.name ?? fail('--name is required')
const controlDir = values['control-dir'] ?? fail('--control-dir is required')
const port = Number(values.port)
if (!Number.isInteger(port) || port < 1 || port > 65_535) fail(`--port ${values.port} is not a port number`)
if (Boolean(values['tls-cert']) !== Boolean(values['tls-key'])) fail('--tls-cert and --tls-key go together')

const unhealthyFlag = `${controlDir}/unhealthy`
const body = `${name}\n`

function handle(request: IncomingMessage, response: ServerResponse): void {
  const path = request.url?.split('?')[0]
  if (path === '/healthz') {
    const healthy = !existsSync(unhealthyFlag)
    response.writeHead(healthy ? 200 : 500, {'Content-Type': 'text/plain', 'X-Backend': name})
    response.end(healthy ? 'ok\n' : 'unhealthy\n')
    return
  }
  if (path === '/headers') {
    const echo = `${JSON.stringify(request.headers)}\n`
    response.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(echo), 'X-Backend': name})
    response.end(echo)
    return
  }
  response.writeHead(200, {'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), 'X-Backend': name})
  response.end(body)
}

async function createServer() {
  if (values['tls-cert'] && values['tls-key']) {
    const https = await import('node:https')
    return https.createServer({cert: readFileSync(values['tls-cert']), key: readFileSync(values['tls-key'])}, handle)
  }
  const http = await import('node:http')
  return http.createServer(handle)
}

const server = await createServer()
server.keepAliveTimeout = 65_000

function listen(host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen({port, host}, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

try {
  if (values.host) await listen(values.host)
  else {
    // Dual-stack where the namespace has IPv6; IPv4 only where it does not.
    await listen('::').catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EAFNOSUPPORT' && error.code !== 'EADDRNOTAVAIL') throw error
      return listen('0.0.0.0')
    })
  }
} catch (error) {
  fail(`cannot listen on port ${port}: ${(error as Error).message}`)
}

const ready = `${controlDir}/listening`
mkdirSync(controlDir, {recursive: true, mode: 0o700})
writeFileSync(`${ready}.tmp`, `${process.pid}\n`, {mode: 0o600})
renameSync(`${ready}.tmp`, ready)
process.stdout.write(`lab backend ${name} listening on port ${port}${values['tls-cert'] ? ' (TLS)' : ''}\n`)

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close()
    server.closeAllConnections()
    process.exit(0)
  })
}
