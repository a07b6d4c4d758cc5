/**
 * `lbaas cert …` (SPEC §9): certificates checked with Node's crypto before anything is
 * stored, kept in the state file with their key, and rotated on every VIP that serves them
 * through HAProxy's runtime API. Refused input changes nothing; the key is never returned.
 */
import {randomUUID} from 'node:crypto'
import {readFileSync} from 'node:fs'

import {ConflictError, UsageError, ValidationError} from '../domain/errors.js'
import type {Certificate, CertificateBundle, PoolGraph} from '../domain/types.js'
import {certificateName} from '../domain/validation.js'
import {readPkcs12} from '../host/openssl.js'
import {
  deleteCertificateRow,
  findCertificatesByName,
  getCertificate,
  insertCertificate,
  listCertificates,
  replaceCertificate,
} from '../store/certificates.js'
import {loadPoolGraph} from '../store/graph.js'
import {getVip} from '../store/vips.js'
import {checkBundle, EXPIRY_WARNING_DAYS, splitPkcs12Pem, type CheckedBundle} from '../tls/certificate.js'
import type {AppContext} from './context.js'
import {counterHooks} from './apply.js'
import {resolveCertificate} from './resolve.js'

/** Where a certificate comes from: PEM files, or a PKCS#12 bundle. Paths only, never content. */
export interface CertificateSource {
  cert_file?: string
  key_file?: string
  chain_file?: string
  pkcs12_file?: string
  passphrase_file?: string
}

export interface CertificateResult {
  certificate: Certificate
  warnings: string[]
}

function readInput(field: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new ValidationError(field, `cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}`)
  }
}

/** Reads and checks the material a source names (SPEC §9). Throws ValidationError; changes nothing. */
export async function checkSource(source: CertificateSource): Promise<CheckedBundle> {
  const pem = source.cert_file !== undefined || source.key_file !== undefined || source.chain_file !== undefined
  const p12 = source.pkcs12_file !== undefined
  if (pem && p12) throw new UsageError('give either --cert/--key [--chain] or --pkcs12 [--passphrase-file], not both')
  if (p12) {
    const text = await readPkcs12(source.pkcs12_file!, source.passphrase_file)
    const parts = splitPkcs12Pem(text)
    return checkBundle({certText: parts.certText, chainText: parts.chainText, keyText: parts.keyText})
  }
  if (source.passphrase_file !== undefined) {
    throw new UsageError('--passphrase-file goes with --pkcs12', 'PEM keys must be unencrypted; a passphrase-protected key comes as --pkcs12 FILE --passphrase-file FILE')
  }
  if (source.cert_file === undefined) throw new UsageError('missing required flag --cert (or --pkcs12)')
  if (source.key_file === undefined) throw new UsageError('missing required flag --key')
  return checkBundle({
    certText: readInput('cert', source.cert_file),
    keyText: readInput('key', source.key_file),
    chainText: source.chain_file === undefined ? undefined : readInput('chain', source.chain_file),
  })
}

export async function createCertificate(ctx: AppContext, nameValue: unknown, source: CertificateSource): Promise<CertificateResult> {
  const name = certificateName(nameValue)
  const checked = await checkSource(source)
  const {db} = ctx.store
  const id = randomUUID()
  ctx.store.write(() => {
    if (findCertificatesByName(db, name).length > 0) {
      throw new ConflictError('certificate_exists', `a certificate named ${name} exists`, `replace it with \`lbaas cert update ${name} …\``)
    }
    insertCertificate(db, {id, name, ...checked.facts}, checked.material)
  })
  for (const warning of checked.warnings) ctx.notify.warn(`certificate ${name}: ${warning}`)
  return {certificate: getCertificate(db, id)!, warnings: checked.warnings}
}

export function listAllCertificates(ctx: AppContext): Certificate[] {
  return listCertificates(ctx.store.db)
}

export function showCertificate(ctx: AppContext, ref: string): Certificate {
  return resolveCertificate(ctx.store.db, ref)
}

/** The pools whose VIP serves `certId`. */
function poolsUsing(ctx: AppContext, certificate: Certificate): string[] {
  return certificate.used_by.map((vipId) => getVip(ctx.store.db, vipId)?.pool_id).filter((id): id is string => id !== undefined)
}

function withBundle(graph: PoolGraph, bundle: CertificateBundle): PoolGraph {
  return {...graph, certs: graph.certs.map((cert) => (cert.id === bundle.id ? bundle : cert))}
}

/**
 * Replaces a certificate's material. Every deployed VIP serving it gets the new one through
 * the runtime API (no reload); when any refuses, the ones already swapped get the old one
 * back and the state file keeps the old certificate.
 */
export async function updateCertificate(ctx: AppContext, ref: string, source: CertificateSource): Promise<CertificateResult> {
  const {db} = ctx.store
  const current = resolveCertificate(db, ref)
  const checked = await checkSource(source)
  return rotateCertificate(ctx, current, checked)
}

/** `cert update` and `apply` (a `certs:` entry with new material): the one rotation path. */
export async function rotateCertificate(ctx: AppContext, current: Certificate, checked: CheckedBundle): Promise<CertificateResult> {
  const {db} = ctx.store
  const bundle: CertificateBundle = {id: current.id, sans: checked.facts.sans, ...checked.material}
  const rotated: {poolId: string; previous: PoolGraph}[] = []
  try {
    for (const poolId of poolsUsing(ctx, current)) {
      await ctx.withPoolLock(poolId, async () => {
        const graph = ctx.store.read(() => loadPoolGraph(db, poolId))
        if (!graph) return
        await rotate(ctx, withBundle(graph, bundle), graph)
        rotated.push({poolId, previous: graph})
      })
    }
  } catch (error) {
    for (const {poolId, previous} of rotated.reverse()) {
      await ctx
        .withPoolLock(poolId, async () => rotate(ctx, previous, withBundle(previous, bundle)))
        .catch((rollbackError: Error) => ctx.notify.warn(`pool ${poolId}: could not put the old certificate back: ${rollbackError.message}`))
    }
    throw error
  }
  ctx.store.write(() => replaceCertificate(db, current.id, checked.facts, checked.material))
  for (const warning of checked.warnings) ctx.notify.warn(`certificate ${current.name}: ${warning}`)
  return {certificate: getCertificate(db, current.id)!, warnings: checked.warnings}
}

async function rotate(ctx: AppContext, next: PoolGraph, previous: PoolGraph): Promise<void> {
  const executor = ctx.executorFor(next.pool)
  const hooks = counterHooks(ctx, next.pool.id)
  const outcome = executor.rotateCertificates
    ? await executor.rotateCertificates(next, previous.certs, hooks)
    : await executor.deploy(next, hooks)
  for (const warning of outcome.warnings) ctx.notify.warn(warning)
}

export function deleteCertificate(ctx: AppContext, ref: string): Certificate {
  const {db} = ctx.store
  return ctx.store.write(() => {
    const certificate = resolveCertificate(db, ref)
    if (certificate.used_by.length > 0) {
      throw new ConflictError(
        'certificate_in_use',
        `certificate ${certificate.name} is used by VIP ${certificate.used_by.join(', ')}`,
        'give those VIPs another certificate (`lbaas vip update VIP --default-cert …`) or delete them first',
      )
    }
    deleteCertificateRow(db, certificate.id)
    return certificate
  })
}

/** Certificates that expire within `days` (SPEC §9: `status` and `doctor` warn about them). */
export function expiringCertificates(ctx: AppContext, days = EXPIRY_WARNING_DAYS): Certificate[] {
  return listCertificates(ctx.store.db).filter((certificate) => certificate.days_left < days)
}

export function expiryWarning(certificate: Certificate): string {
  return certificate.days_left < 0
    ? `certificate ${certificate.name} expired on ${certificate.not_after}${certificate.used_by.length > 0 ? ` and is served by ${certificate.used_by.length} VIP(s)` : ''}`
    : `certificate ${certificate.name} expires in ${certificate.days_left} days (${certificate.not_after}); renew it with \`lbaas cert update ${certificate.name} …\``
}
