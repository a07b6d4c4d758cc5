// A test backend with the lab backend's command line (so src/lab/lab-host.ts `startBackend`
// can run it through `script`) and two extras the lab backend has no reason to have:
//   - every request is appended to <control-dir>/requests.log as one JSON line
//     {method, url}: tests check exactly what HAProxy's health checks sent;
//   - while <control-dir>/cookie holds a cookie name, an answer to a request that does not
//     carry that cookie sets it (`NAME=<backend name>.<n>`), as an application session would.
// Like the lab backend: `/healthz` answers 500 while <control-dir>/unhealthy exists, every
// answer carries `X-Backend: NAME`, and <control-dir>/listening gets the PID once listening.
import {appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:http'
import {parseArgs} from 'node:util'

const {values} = parseArgs({
  options: {
    name: {type: 'string'},
    port: {type: 'string', default: '8000'},
    'control-dir': {type: 'string'},
  },
  strict: true,
})
const name = values.name
const controlDir = values['control-dir']
const port = Number(values.port)
if (!name || !controlDir || !Number.isInteger(port)) {
  process.stderr.write('usage: recording-backend --name N --port P --control-dir D\n')
  process.exit(2)
}
mkdirSync(controlDir, {recursive: true, mode: 0o700})
let sessions = 0

function cookieName() {
  try {
    return readFileSync(`${controlDir}/cookie`, 'utf8').trim()
  } catch {
    return ''
  }
}

const server = createServer((request, response) => {
  appendFileSync(`${controlDir}/requests.log`, `${JSON.stringify({method: request.method, url: request.url})}\n`)
  const headers = {'Content-Type': 'text/plain', 'X-Backend': name}
  if ((request.url ?? '').split('?')[0] === '/healthz') {
    const healthy = !existsSync(`${controlDir}/unhealthy`)
    response.writeHead(healthy ? 200 : 500, headers)
    response.end(healthy ? 'ok\n' : 'unhealthy\n')
    return
  }
  const cookie = cookieName()
  if (cookie) {
    const sent = (request.headers.cookie ?? '').split(';').some((pair) => pair.trim().startsWith(`${cookie}=`))
    if (!sent) headers['Set-Cookie'] = `${cookie}=${name}.${++sessions}; Path=/`
  }
  response.writeHead(200, headers)
  response.end(`${name}\n`)
})
server.keepAliveTimeout = 65_000
server.listen({port, host: '0.0.0.0'}, () => {
  writeFileSync(`${controlDir}/listening.tmp`, `${process.pid}\n`)
  renameSync(`${controlDir}/listening.tmp`, `${controlDir}/listening`)
})
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    server.close()
    server.closeAllConnections()
    process.exit(0)
  })
}
