/**
 * `lbaas demo --tls` (SPEC §9 told on a lab): a private CA, a certificate, an HTTPS VIP in
 * front of a second pool of the same backends, a request verified against the CA, and a
 * rotation through the runtime API while the VIP serves. Everything it makes is removed
 * unless --keep.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {RuntimeFailure} from '../domain/errors.js'
import {issueLabCertificate, makeLabCa, removeLabCa, type LabCa} from '../host/lab-ca.js'
import {formatArgv} from '../util/argv.js'
import {verifiedRequest} from '../lab/https-probe.js'
import {createCertificate, deleteCertificate, updateCertificate} from './certificates.js'
import type {AppContext} from './context.js'
import type {LabBackend} from './lab.js'
import {deleteStep, literalLine, memberCreateStep, poolCreateStep, runCleanup} from './demo-commands.js'
import type {DemoScript, DemoStep} from './demo-steps.js'
import {deletePool} from './pools.js'
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

/** `lbaas cert create|update NAME --cert FILE --key FILE`. */
function certStep(ctx: AppContext, verb: 'create' | 'update', files: {certFile: string; keyFile: string}): DemoStep<unknown> {
  return {
    command: ['cert', verb],
    argv: [TLS_DEMO.cert, '--cert', files.certFile, '--key', files.keyFile],
    run: (args) => {
      const name = args.positional()
      const source = {cert_file: args.flag('--cert'), key_file: args.flag('--key')}
      if (verb === 'create') return createCertificate(ctx, name, source)
      return ctx.notify.step(`lbaas cert update ${name} (set ssl cert + commit ssl cert on the runtime API)`, () => updateCertificate(ctx, name, source))
    },
  }
}

export async function runTlsDemo(
  ctx: AppContext,
  input: {subnet: string; backends: readonly LabBackend[]; heading: number; keep: boolean; script: DemoScript},
  report: Reporter,
): Promise<TlsDemoReport> {
  const made: {pool?: string; vip?: string; cert?: boolean; ca?: LabCa} = {}
  const {script} = input
  const cleanup: DemoStep<unknown>[] = []
  try {
    await report.heading(`${input.heading}. TLS: a lab CA, a certificate for ${TLS_DEMO.name}, an HTTPS VIP`)
    const ca = await makeLabCa(`${ctx.runDir}/demo-tls`)
    made.ca = ca
    const first = await issueLabCertificate(ca, 'shop-1', [TLS_DEMO.name])
    script.shell(`# a private CA and a certificate for ${TLS_DEMO.name}: see ${ca.dir}`)
    await script.run(certStep(ctx, 'create', first))
    made.cert = true
    const pool = await script.run(poolCreateStep(ctx, {name: TLS_DEMO.pool, subnet: input.subnet}))
    made.pool = pool.id
    for (const backend of input.backends) await script.run(memberCreateStep(ctx, TLS_DEMO.pool, backend))
    const vip = await script.run({
      command: ['vip', 'create'],
      argv: [TLS_DEMO.pool, '--name', TLS_DEMO.vip, '--protocol', 'TERMINATED_HTTPS', '--protocol-port', String(TLS_DEMO.port), '--subnet', input.subnet, '--default-cert', TLS_DEMO.cert, '--redirect-http'],
      capture: {variable: 'HTTPS_VIP', column: 'address'},
      run: (args) =>
        createVip(ctx, args.positional(), {
          name: args.flag('--name'),
          protocol: args.flag('--protocol'),
          protocol_port: args.number('--protocol-port'),
          subnet: args.flag('--subnet'),
          default_cert: args.flag('--default-cert'),
          redirect_http: args.bool('--redirect-http'),
        }),
    })
    made.vip = vip.id
    const ask = () => ctx.notify.step(`GET https://${TLS_DEMO.name}/ at ${vip.address}, verified against the lab CA`, () => firstAnswer(vip.address, ca.caFile))
    const before = await ask()
    script.shell(`curl --cacert ${formatArgv([ca.caFile])} --resolve ${TLS_DEMO.name}:443:"$HTTPS_VIP" https://${TLS_DEMO.name}/`)
    await report.note(`${before.protocol}, certificate verified against the lab CA, answered by ${before.backend}; sha256 ${before.fingerprint256}`)

    await report.heading(`${input.heading + 1}. Rotation: a renewed certificate, swapped without a reload`)
    const renewed = await issueLabCertificate(ca, 'shop-2', [TLS_DEMO.name])
    await script.run(certStep(ctx, 'update', renewed))
    const after = await ask()
    if (after.fingerprint256 === before.fingerprint256) throw new RuntimeFailure('demo_rotation', 'the VIP still serves the old certificate after `cert update`')
    await report.note(`now serving sha256 ${after.fingerprint256} (HAProxy was not reloaded: see \`show proc\` on the pool's master socket)`)
    cleanup.push(
      deleteStep(ctx, 'vip', TLS_DEMO.vip, `delete VIP ${TLS_DEMO.vip}`, deleteVip),
      deleteStep(ctx, 'pool', TLS_DEMO.pool, `delete pool ${TLS_DEMO.pool} and its members`, deletePool),
      deleteStep(ctx, 'cert', TLS_DEMO.cert, `delete certificate ${TLS_DEMO.cert}`, deleteCertificate),
    )
    if (input.keep) await report.note(`kept (--keep); to remove the TLS part:\n  ${cleanup.map(literalLine).join('\n  ')}`)
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
      // The same steps whether the story finished (they join the script) or stopped half-way.
      const steps = [
        made.vip ? deleteStep(ctx, 'vip', TLS_DEMO.vip, `delete VIP ${TLS_DEMO.vip}`, deleteVip) : undefined,
        made.pool ? deleteStep(ctx, 'pool', TLS_DEMO.pool, `delete pool ${TLS_DEMO.pool} and its members`, deletePool) : undefined,
        made.cert ? deleteStep(ctx, 'cert', TLS_DEMO.cert, `delete certificate ${TLS_DEMO.cert}`, deleteCertificate) : undefined,
      ].filter((step) => step !== undefined)
      await runCleanup(ctx, script, steps)
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
    await sleep(250)
  }
  throw new RuntimeFailure('demo_https', `no verified answer from https://${TLS_DEMO.name}/ at ${address}: ${(lastError as Error).message}`)
}
