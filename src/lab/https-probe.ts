/**
 * One HTTPS request to a VIP, verified against a CA, with SNI: what `curl --cacert CA
 * --resolve NAME:PORT:ADDRESS https://NAME/` does. Returns the answering backend and the
 * served certificate's SHA-256 fingerprint.
 */
import {readFileSync} from 'node:fs'
import {request} from 'node:https'
import type {TLSSocket} from 'node:tls'

export interface HttpsAnswer {
  status: number
  backend: string
  fingerprint256: string
  protocol: string
}

export function verifiedRequest(options: {address: string; port: number; name: string; caFile: string; timeoutMs?: number}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.address,
        port: options.port,
        servername: options.name,
        headers: {Host: options.name},
        path: '/',
        ca: readFileSync(options.caFile),
        agent: false,
        timeout: options.timeoutMs ?? 5_000,
      },
      (res) => {
        const socket = res.socket as TLSSocket
        const answer = {
          status: res.statusCode ?? 0,
          backend: String(res.headers['x-backend'] ?? ''),
          fingerprint256: socket.getPeerCertificate().fingerprint256,
          protocol: socket.getProtocol() ?? '',
        }
        res.resume()
        res.on('end', () => resolve(answer))
      },
    )
    req.on('timeout', () => req.destroy(new Error(`no answer from ${options.address}:${options.port} within ${options.timeoutMs ?? 5_000} ms`)))
    req.on('error', reject)
    req.end()
  })
}
