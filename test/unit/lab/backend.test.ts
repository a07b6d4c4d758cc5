import {setTimeout as sleep} from 'node:timers/promises'
import {spawn, spawnSync, type ChildProcess} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {Agent, request as httpRequest} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {labBackendScript} from '../../helpers/lab-backend.js'
import {tempDir} from '../../helpers/tmp.js'
import {freePort} from '../../helpers/ports.js'
import {StopWaiting, waitFor} from '../../helpers/wait.js'

const dir = tempDir('lbaas-backend-')
const children: ChildProcess[] = []
let script: string

beforeAll(async () => {
  script = await labBackendScript()
})

afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  dir.cleanup()
})


async function startBackend(name: string, extra: string[] = []): Promise<{child: ChildProcess; port: number; controlDir: string; output: () => string}> {
  const port = await freePort()
  const controlDir = `${dir.path}/${name}`
  mkdirSync(controlDir, {recursive: true})
  const child = spawn(process.execPath, [script, '--name', name, '--port', String(port), '--control-dir', controlDir, '--host', '127.0.0.1', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let output = ''
  child.stdout!.on('data', (chunk) => (output += chunk))
  await waitFor(`backend ${name} to listen`, () => {
    if (child.exitCode !== null) throw new StopWaiting(`backend ${name} did not start (exit ${child.exitCode})`)
    return existsSync(`${controlDir}/listening`)
  }, 10_000, 10)
  return {child, port, controlDir, output: () => output}
}

interface Reply {
  status: number
  body: string
  backend: string | undefined
  socket: unknown
}

function get(port: number, path: string, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({host: '127.0.0.1', port, path, agent}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode!, body, backend: res.headers['x-backend'] as string | undefined, socket: req.socket}))
    })
    req.on('error', reject)
    req.end()
  })
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once('exit', (code) => resolve(code))
  })
}

describe('lab backend server', () => {
  it('answers its name on every path, with X-Backend, over one keep-alive connection, and logs nothing per request', async () => {
    const {child, port, controlDir, output} = await startBackend('web-1')
    const agent = new Agent({keepAlive: true, maxSockets: 1})
    const first = await get(port, '/', agent)
    const second = await get(port, '/some/page?x=1', agent)
    agent.destroy()
    expect(first).toMatchObject({status: 200, body: 'web-1\n', backend: 'web-1'})
    expect(second).toMatchObject({status: 200, body: 'web-1\n', backend: 'web-1'})
    expect(second.socket).toBe(first.socket)
    expect(readFileSync(`${controlDir}/listening`, 'utf8').trim()).toBe(String(child.pid))
    await sleep(50)
    expect(output()).toBe(`lab backend web-1 listening on port ${port}\n`)
    child.kill('SIGTERM')
    expect(await exitOf(child)).toBe(0)
  })

  it('fails /healthz with 500 while <control-dir>/unhealthy exists', async () => {
    const {child, port, controlDir} = await startBackend('web-2')
    expect(await get(port, '/healthz')).toMatchObject({status: 200, body: 'ok\n'})
    writeFileSync(`${controlDir}/unhealthy`, '')
    expect((await get(port, '/healthz')).status).toBe(500)
    expect((await get(port, '/')).status).toBe(200)
    rmSync(`${controlDir}/unhealthy`)
    expect((await get(port, '/healthz')).status).toBe(200)
    child.kill('SIGTERM')
    await exitOf(child)
  })

  it('serves HTTPS with --tls-cert and --tls-key', async () => {
    const cert = `${dir.path}/cert.pem`
    const key = `${dir.path}/key.pem`
    const made = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=lab-backend',
    ])
    expect(made.status).toBe(0)
    const {child, port} = await startBackend('tls-1', ['--tls-cert', cert, '--tls-key', key])
    const reply = await new Promise<{status: number; body: string}>((resolve, reject) => {
      const req = httpsRequest({host: '127.0.0.1', port, path: '/', ca: readFileSync(cert), servername: 'lab-backend', checkServerIdentity: () => undefined}, (res) => {
        let body = ''
        res.on('data', (chunk) => (body += chunk))
        res.on('end', () => resolve({status: res.statusCode!, body}))
      })
      req.on('error', reject)
      req.end()
    })
    expect(reply).toEqual({status: 200, body: 'tls-1\n'})
    child.kill('SIGTERM')
    await exitOf(child)
  })

  it('refuses bad arguments with exit 2', () => {
    const missing = spawnSync(process.execPath, [script, '--port', '8000', '--control-dir', dir.path])
    expect(missing.status).toBe(2)
    expect(missing.stderr.toString()).toMatch(/--name is required/)
    const port = spawnSync(process.execPath, [script, '--name', 'x', '--port', '70000', '--control-dir', dir.path])
    expect(port.status).toBe(2)
    const tls = spawnSync(process.execPath, [script, '--name', 'x', '--control-dir', dir.path, '--tls-cert', 'c.pem'])
    expect(tls.status).toBe(2)
  })
})
