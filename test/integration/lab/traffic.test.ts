/** The demo's request burst against loopback servers: counted by X-Backend, bounded when nothing answers. */
import {createServer, type Server} from 'node:http'
import {createServer as createTcpServer} from 'node:net'
import {afterAll, describe, expect, it} from 'vitest'

import {sendBurst} from '../../../src/lab/traffic.js'

const servers: {close(): void}[] = []
afterAll(() => servers.forEach((server) => server.close()))

async function listen(server: Server | ReturnType<typeof createTcpServer>): Promise<number> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as {port: number}).port
}

describe('sendBurst', () => {
  it('counts answers by the backend that gave them, and failures apart', async () => {
    let request = 0
    const port = await listen(
      createServer((_req, res) => {
        request++
        if (request % 5 === 0) res.writeHead(503).end()
        else res.writeHead(200, {'X-Backend': request % 2 === 0 ? 'even' : 'odd'}).end('hi\n')
      }),
    )
    const result = await sendBurst({host: '127.0.0.1', port, count: 20})
    expect(result.sent).toBe(20)
    expect(result.failed).toBe(4)
    expect(Object.fromEntries(result.answeredBy)).toEqual({odd: 8, even: 8})
  })

  it('gives up after five failures in a row instead of waiting out every timeout', async () => {
    // Accepts connections and never answers: every request times out.
    const port = await listen(createTcpServer(() => undefined))
    const result = await sendBurst({host: '127.0.0.1', port, count: 60, timeoutMs: 200})
    expect(result).toEqual({sent: 5, failed: 5, answeredBy: new Map()})
  })
})
