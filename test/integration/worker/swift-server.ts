import {createHash} from 'node:crypto'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'

export interface SwiftRequest {
  method: string
  path: string
  token: string | undefined
  etag: string | undefined
  body: Buffer
  status: number
}

/**
 * A small Swift-compatible object store on 127.0.0.1 for ARCHIVE tests: PUT a container
 * (201), PUT an object (201) when X-Auth-Token matches (else 401) and the ETag is the MD5
 * of the body (else 422, as Swift answers a corrupted upload).
 */
export class SwiftServer {
  readonly requests: SwiftRequest[] = []
  private holding: {reached: () => void; released: Promise<void>} | undefined

  private constructor(
    private readonly server: Server,
    readonly token: string,
  ) {}

  static async start(token: string): Promise<SwiftServer> {
    let swift: SwiftServer | undefined
    const server = createServer((request, response) => {
      const chunks: Buffer[] = []
      request.on('data', (chunk: Buffer) => chunks.push(chunk))
      request.on('end', async () => {
        const body = Buffer.concat(chunks)
        const hold = swift!.holding
        if (hold) {
          swift!.holding = undefined
          hold.reached()
          await hold.released
        }
        const token = request.headers['x-auth-token'] as string | undefined
        const etag = request.headers.etag as string | undefined
        let status = 201
        if (request.method !== 'PUT') status = 405
        else if (token !== swift!.token) status = 401
        else if (etag !== undefined && createHash('md5').update(body).digest('hex') !== etag) status = 422
        swift!.requests.push({method: request.method ?? '', path: request.url ?? '', token, etag, body, status})
        response.writeHead(status, {'Content-Length': '0'})
        response.end()
      })
    })
    swift = new SwiftServer(server, token)
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return swift
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1/AUTH_test`
  }

  /** Holds the next request until `release()`; `reached` resolves when it arrives. */
  holdNext(): {reached: Promise<void>; release: () => void} {
    let reached!: () => void
    let release!: () => void
    const reachedPromise = new Promise<void>((resolve) => (reached = resolve))
    const released = new Promise<void>((resolve) => (release = resolve))
    this.holding = {reached, released}
    return {reached: reachedPromise, release}
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}
