/**
 * The runtime-API client against fake HAProxy sockets (UNIX sockets in a temp directory):
 * a stats socket that answers one command and closes, and a master socket that answers
 * only after the client half-closes, as HAProxy 2.6 does.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {createServer, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {
  reload,
  reloadAndWait,
  sendCommand,
  sendMasterCommand,
  setServerState,
  setServerWeight,
  showProc,
  showServersState,
} from '../../../src/haproxy/runtime.js'
import {refusalOf} from '../../helpers/errors.js'

let dir: string
const servers: Server[] = []
const connections = new Set<Socket>()

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lbt-runtime-'))
})

afterEach(async () => {
  for (const socket of connections) socket.destroy()
  connections.clear()
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
  rmSync(dir, {recursive: true, force: true})
})

async function listen(path: string, onConnection: (socket: Socket) => void): Promise<Server> {
  const server = createServer((socket) => {
    connections.add(socket)
    // A client that gave up (timeout tests) makes the fake's late answer fail with EPIPE.
    socket.on('error', () => {})
    socket.on('close', () => connections.delete(socket))
    onConnection(socket)
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(path, resolve))
  return server
}

/** Like a stats socket: reads one line, answers, closes. Records what it received. */
function statsSocket(path: string, answer: (command: string) => string | Buffer[], received: string[] = []): Promise<Server> {
  return listen(path, (socket) => {
    let buffer = ''
    socket.on('data', async (chunk) => {
      buffer += chunk.toString()
      if (!buffer.includes('\n')) return
      const command = buffer.slice(0, buffer.indexOf('\n'))
      received.push(command)
      const reply = answer(command)
      if (typeof reply === 'string') socket.end(reply)
      else {
        for (const piece of reply) {
          socket.write(piece)
          await sleep(1)
        }
        socket.end()
      }
    })
  })
}

/** Like the master CLI: answers only once the client has half-closed. */
function masterSocket(path: string, answer: (command: string) => string): Promise<Server> {
  return listen(path, (socket) => {
    let buffer = ''
    socket.on('data', (chunk) => (buffer += chunk.toString()))
    socket.on('end', () => socket.end(answer(buffer.trim())))
  })
}

describe('sendCommand (stats socket)', () => {
  it('reads the whole answer to EOF, however it is split', async () => {
    const path = join(dir, 'stats.sock')
    const line = `${'x'.repeat(99)}\n`
    const pieces = Array.from({length: 300}, () => Buffer.from(line))
    pieces.splice(7, 0, Buffer.from('')) // a short write in the middle must not end the read
    await statsSocket(path, () => pieces)
    const answer = await sendCommand(path, 'show stat')
    expect(answer).toBe(line.repeat(300))
  })

  it('sends exactly one command line', async () => {
    const path = join(dir, 'stats.sock')
    const received: string[] = []
    await statsSocket(path, () => '\n', received)
    await sendCommand(path, 'show info')
    expect(received).toEqual(['show info'])
  })

  it('refuses to send what would be more than one command', async () => {
    for (const command of ['show stat; shutdown frontend x', 'show stat\nshutdown frontend x', '']) {
      expect((await refusalOf(sendCommand(join(dir, 'stats.sock'), command))).code).toBe('haproxy_command')
    }
  })

  it('names the socket and the command when nothing listens', async () => {
    const path = join(dir, 'missing.sock')
    const error = await refusalOf(sendCommand(path, 'show stat'))
    expect(error.code).toBe('haproxy_socket')
    expect(error.message).toContain(path)
    expect(error.message).toContain('show stat')
    expect(error.message).toContain('does not exist')
  })

  it('times out when the answer never ends', async () => {
    const path = join(dir, 'stuck.sock')
    await listen(path, (socket) => socket.write('partial'))
    const error = await refusalOf(sendCommand(path, 'show stat', {timeoutMs: 100}))
    expect(error.code).toBe('haproxy_socket')
    expect(error.message).toMatch(/within 100 ms/)
  })
})

describe('sendMasterCommand', () => {
  it('half-closes, which the master needs before it answers', async () => {
    const path = join(dir, 'master.sock')
    await masterSocket(path, (command) => `answer to ${command}\n`)
    expect(await sendMasterCommand(path, 'show proc')).toBe('answer to show proc\n')
    // Without the half-close the same socket never answers.
    expect((await refusalOf(sendCommand(path, 'show proc', {timeoutMs: 150}))).code).toBe('haproxy_socket')
  })

  it('retries while the socket is missing (the master re-executes on reload)', async () => {
    const path = join(dir, 'master.sock')
    setTimeout(() => void masterSocket(path, () => 'back\n'), 150)
    expect(await sendMasterCommand(path, 'show proc', {connectRetryMs: 3_000})).toBe('back\n')
  })

  it('retries a query whose connection closed unanswered (the master re-executing), but never resends a reload', async () => {
    const path = join(dir, 'master.sock')
    const received: string[] = []
    let connectionCount = 0
    await listen(path, (socket) => {
      if (++connectionCount % 2 === 1) {
        // Close without answering, as the re-executing master does (the client sees EOF or ECONNRESET).
        received.push('(closed)')
        socket.destroy()
        return
      }
      let buffer = ''
      socket.on('data', (chunk) => (buffer += chunk.toString()))
      socket.on('end', () => {
        received.push(buffer.trim())
        socket.end('answer\n')
      })
    })
    expect(await sendMasterCommand(path, 'show proc')).toBe('answer\n')
    expect(received).toEqual(['(closed)', 'show proc'])
    await reload(path)
    expect(received).toEqual(['(closed)', 'show proc', '(closed)'])
  })

  it('gives up after the retry window', async () => {
    const error = await refusalOf(sendMasterCommand(join(dir, 'gone.sock'), 'show proc', {connectRetryMs: 100}))
    expect(error.code).toBe('haproxy_socket')
  })
})

describe('set commands', () => {
  it('accept an empty answer as success and send the documented syntax', async () => {
    const path = join(dir, 'stats.sock')
    const received: string[] = []
    await statsSocket(path, () => '\n', received)
    await setServerWeight(path, 'pool-1', 'member-1', 0)
    await setServerState(path, 'pool-1', 'member-1', 'drain')
    expect(received).toEqual(['set server pool-1/member-1 weight 0', 'set server pool-1/member-1 state drain'])
  })

  it("turn HAProxy's refusal into haproxy_runtime_refused", async () => {
    const path = join(dir, 'stats.sock')
    await statsSocket(path, () => "Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.\n\n")
    const error = await refusalOf(setServerWeight(path, 'pool-1', 'member-1', 5))
    expect(error.code).toBe('haproxy_runtime_refused')
    expect(error.message).toContain('static LB algorithm')
  })

  it('refuse names that could address something else, and bad weights', async () => {
    const path = join(dir, 'stats.sock')
    expect((await refusalOf(setServerWeight(path, 'pool/x', 'member-1', 1))).code).toBe('haproxy_command')
    expect((await refusalOf(setServerState(path, 'pool-1', 'member 1', 'maint'))).code).toBe('haproxy_command')
    expect((await refusalOf(setServerWeight(path, 'pool-1', 'member-1', 257))).code).toBe('haproxy_command')
  })
})

describe('showServersState', () => {
  it('returns the raw dump, and refuses anything that is not one', async () => {
    const path = join(dir, 'stats.sock')
    await statsSocket(path, (command) => (command === 'show servers state' ? '1\n# be_id be_name\n' : ''))
    expect(await showServersState(path)).toBe('1\n# be_id be_name\n')
    const other = join(dir, 'other.sock')
    await statsSocket(other, () => 'Unknown command.\n')
    expect((await refusalOf(showServersState(other))).code).toBe('haproxy_output')
  })
})

describe('reloadAndWait', () => {
  /** A fake master: `reload` takes the socket away for a moment, then reports the result. */
  async function fakeMaster(path: string, outcome: 'ok' | 'failed') {
    const state = {reloads: 0, failed: 0, worker: 100}
    const proc = () =>
      [
        '#<PID>          <type>          <reloads>       <uptime>        <version>      ',
        `1               master          ${state.reloads} [failed: ${state.failed}]   0d00h00m01s     2.6.12`,
        '# workers',
        `${state.worker}             worker          0               0d00h00m01s     2.6.12`,
        '# programs',
        '',
      ].join('\n')
    let server = await masterSocket(path, (command) => {
      if (command !== 'reload') return proc()
      setImmediate(async () => {
        await new Promise((resolve) => server.close(resolve))
        await sleep(120)
        state.reloads += 1
        if (outcome === 'ok') {
          state.failed = 0
          state.worker += 1
        } else state.failed += 1
        server = await masterSocket(path, (next) => (next === 'reload' ? '' : proc()))
      })
      return ''
    })
  }

  it('waits through the socket gap and sees the new worker', async () => {
    const path = join(dir, 'master.sock')
    await fakeMaster(path, 'ok')
    const outcome = await reloadAndWait(path, {waitMs: 5_000})
    expect(outcome.ok).toBe(true)
    expect(outcome.before.workers.map((worker) => worker.pid)).toEqual([100])
    expect(outcome.after.workers.map((worker) => worker.pid)).toEqual([101])
  })

  it('reports a failed reload with the old worker kept', async () => {
    const path = join(dir, 'master.sock')
    await fakeMaster(path, 'failed')
    const outcome = await reloadAndWait(path, {waitMs: 5_000})
    expect(outcome.ok).toBe(false)
    expect(outcome.after.master.failed_reloads).toBe(1)
    expect(outcome.after.workers.map((worker) => worker.pid)).toEqual([100])
    expect((await showProc(path)).master.reloads).toBe(1)
  })
})
