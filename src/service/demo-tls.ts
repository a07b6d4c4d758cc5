/**
 * `lbaas demo --tls` (SPEC §9 told on a lab): a private CA, a certificate, an HTTPS VIP in
 * front of a second pool of the same backends, a request verified against the CA, and a
 * rotation through the runtime API while the VIP serves. Everything it makes is removed
 * unless --keep.
 */
import {RuntimeFailure} from '../domain/errors.js'
import {issueLabCertificate, makeLabCa, removeLabCa, type LabCa} from '../host/lab-ca.js'
import {formatArgv} from '../util/argv.js'
import {verifiedRequest} from '../lab/https-probe.js'
import {createCertificate, deleteCertificate, updateCertificate} from './certificates.js'
import type {AppContext} from './context.js'
import type {LabBackend} from './lab.js'
import {createMember} from './members.js'
import {createPool, deletePool} from './pools.js'
import {createVip, deleteVip} from './vips.js'

export const TLS_DEMO = {pool: 'demo-https', vip: 'demo-https-vip', cert: 'demo-cert', name: 'shop.lab.test', port: 443} as const

export interface TlsDemoReport {
  name: string
  address: string
  ca_file: string
  backend: string
  fingerprint_before: string
  fingerprint_after: string
  protocol: string
}

interface Reporter {
  heading(text: string): Promise<void>
  note(text: string): Promise<void>
}

const lbaas = (...args: string[]) => formatArgv(['lbaas', ...args])

export async function runTlsDemo(
  ctx: AppContext,
  input: {subnet: string; backends: readonly LabBackend[]; heading: number; keep: boolean; ran: (command: string) => void},
  report: Reporter,
): Promise<TlsDemoReport> {
  const made: {pool?: string; vip?: string; cert?: boolean; ca?: LabCa} = {}
  const {ran} = input
  try {
    await report.heading(`${input.heading}. TLS: a lab CA, a certificate for ${TLS_DEMO.name}, an HTTPS VIP`)
    const ca = await makeLabCa(`${ctx.runDir}/demo-tls`)
    made.ca = ca
    const first = await issueLabCertificate(ca, 'shop-1', [TLS_DEMO.name])
    ran(`# a private CA and a certificate for ${TLS_DEMO.name}: see ${ca.dir}`)
    await createCertificate(ctx, TLS_DEMO.cert, {cert_file: first.certFile, key_file: first.keyFile})
    made.cert = true
    ran(lbaas('cert', 'create', TLS_DEMO.cert, '--cert', first.certFile, '--key', first.keyFile))
    const pool = await createPool(ctx, {name: TLS_DEMO.pool, subnet: input.subnet, protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
    made.pool = pool.id
    ran(lbaas('pool', 'create', '--name', TLS_DEMO.pool, '--subnet', input.subnet, '--protocol', 'HTTP', '--lb-method', 'ROUND_ROBIN'))
    for (const backend of input.backends) {
      await createMember(ctx, pool.id, {address: backend.address, protocol_port: backend.port})
      ran(lbaas('member', 'create', TLS_DEMO.pool, '--address', backend.address, '--protocol-port', String(backend.port)))
    }
    const vip = await createVip(ctx, pool.id, {
      name: TLS_DEMO.vip,
      protocol: 'TERMINATED_HTTPS',
      protocol_port: TLS_DEMO.port,
      subnet: input.subnet,
      default_cert: TLS_DEMO.cert,
      redirect_http: true,
    })
    made.vip = vip.id
    ran(
      `HTTPS_VIP=$(${lbaas('vip', 'create', TLS_DEMO.pool, '--name', TLS_DEMO.vip, '--protocol', 'TERMINATED_HTTPS', '--protocol-port', '443', '--subnet', input.subnet, '--default-cert', TLS_DEMO.cert, '--redirect-http', '-f', 'value', '-c', 'address')})`,
    )
    const ask = () => ctx.notify.step(`GET https://${TLS_DEMO.name}/ at ${vip.address}, verified against the lab CA`, () => firstAnswer(vip.address, ca.caFile))
    const before = await ask()
    ran(`curl --cacert ${formatArgv([ca.caFile])} --resolve ${TLS_DEMO.name}:443:"$HTTPS_VIP" https://${TLS_DEMO.name}/`)
    await report.note(`${before.protocol}, certificate verified against the lab CA, answered by ${before.backend}; sha256 ${before.fingerprint256}`)

    await report.heading(`${input.heading + 1}. Rotation: a renewed certificate, swapped without a reload`)
    const renewed = await issueLabCertificate(ca, 'shop-2', [TLS_DEMO.name])
    await ctx.notify.step(`lbaas cert update ${TLS_DEMO.cert} (set ssl cert + commit ssl cert on the runtime API)`, () =>
      updateCertificate(ctx, TLS_DEMO.cert, {cert_file: renewed.certFile, key_file: renewed.keyFile}),
    )
    ran(lbaas('cert', 'update', TLS_DEMO.cert, '--cert', renewed.certFile, '--key', renewed.keyFile))
    const after = await ask()
    if (after.fingerprint256 === before.fingerprint256) throw new RuntimeFailure('demo_rotation', 'the VIP still serves the old certificate after `cert update`')
    await report.note(`now serving sha256 ${after.fingerprint256} (HAProxy was not reloaded: see \`show proc\` on the pool's master socket)`)
    const cleanup = [lbaas('vip', 'delete', TLS_DEMO.vip, '--yes'), lbaas('pool', 'delete', TLS_DEMO.pool, '--yes'), lbaas('cert', 'delete', TLS_DEMO.cert, '--yes')]
    if (input.keep) await report.note(`kept (--keep); to remove the TLS part:\n  ${cleanup.join('\n  ')}`)
    else for (const command of cleanup) ran(command)
    return {
      name: TLS_DEMO.name,
      address: vip.address,
      ca_file: ca.caFile,
      backend: before.backend,
      fingerprint_before: before.fingerprint256,
      fingerprint_after: after.fingerprint256,
      protocol: before.protocol,
    }
  } finally {
    if (!input.keep) {
      if (made.vip) await deleteVip(ctx, made.vip).catch((error: Error) => ctx.notify.warn(`cleanup: ${error.message}`))
      if (made.pool) await deletePool(ctx, made.pool).catch((error: Error) => ctx.notify.warn(`cleanup: ${error.message}`))
      if (made.cert) {
        try {
          deleteCertificate(ctx, TLS_DEMO.cert)
        } catch (error) {
          ctx.notify.warn(`cleanup: ${(error as Error).message}`)
        }
      }
      if (made.ca) removeLabCa(made.ca)
    }
  }
}

/** The first verified answer: the members may need a moment to pass their first check. */
async function firstAnswer(address: string, caFile: string) {
  let lastError: unknown
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const answer = await verifiedRequest({address, port: TLS_DEMO.port, name: TLS_DEMO.name, caFile})
      if (answer.status === 200) return answer
      lastError = new Error(`HTTP ${answer.status}`)
    } catch (error) {
      lastError = error
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new RuntimeFailure('demo_https', `no verified answer from https://${TLS_DEMO.name}/ at ${address}: ${(lastError as Error).message}`)
}
