/**
 * Certificates (SPEC §9). The facts columns are what `cert show` prints; the PEM columns
 * (leaf, chain, key) are read only by `getCertificateBundle`, for the executor.
 */
import {createHash} from 'node:crypto'

import type {Certificate, CertificateBundle} from '../domain/types.js'
import type {CertificateFacts, CertificateMaterial} from '../tls/certificate.js'
import {checkBundle, daysLeft} from '../tls/certificate.js'
import type {Db} from './db.js'
import {vipsUsingCert} from './vips.js'

interface CertRow extends Omit<CertificateFacts, 'sans'> {
  id: string
  name: string
  sans: string
}

const FACTS = 'id, name, subject, sans, issuer, not_before, not_after, fingerprint_sha256, key_type'

export interface StoredCertificate extends CertificateFacts {
  id: string
  name: string
}

function toCertificate(db: Db, row: CertRow, now: Date): Certificate {
  return {
    id: row.id,
    name: row.name,
    subject: row.subject,
    sans: JSON.parse(row.sans) as string[],
    issuer: row.issuer,
    not_before: row.not_before,
    not_after: row.not_after,
    days_left: daysLeft(row.not_after, now),
    fingerprint_sha256: row.fingerprint_sha256,
    key_type: row.key_type,
    used_by: vipsUsingCert(db, row.id),
  }
}

export function insertCertificate(db: Db, cert: StoredCertificate, material: CertificateMaterial): void {
  db.prepare(
    `INSERT INTO certificates (${FACTS}, cert_pem, chain_pem, key_pem)
     VALUES (@id, @name, @subject, @sans, @issuer, @not_before, @not_after, @fingerprint_sha256, @key_type, @cert_pem, @chain_pem, @key_pem)`,
  ).run({...cert, sans: JSON.stringify(cert.sans), ...material})
}

export function replaceCertificate(db: Db, id: string, facts: CertificateFacts, material: CertificateMaterial): void {
  db.prepare(
    `UPDATE certificates SET subject = @subject, sans = @sans, issuer = @issuer, not_before = @not_before,
       not_after = @not_after, fingerprint_sha256 = @fingerprint_sha256, key_type = @key_type,
       cert_pem = @cert_pem, chain_pem = @chain_pem, key_pem = @key_pem WHERE id = @id`,
  ).run({...facts, sans: JSON.stringify(facts.sans), ...material, id})
}

export function getCertificate(db: Db, id: string, now = new Date()): Certificate | undefined {
  const row = db.prepare(`SELECT ${FACTS} FROM certificates WHERE id = ?`).get(id) as CertRow | undefined
  return row && toCertificate(db, row, now)
}

export function findCertificatesByName(db: Db, name: string, now = new Date()): Certificate[] {
  return (db.prepare(`SELECT ${FACTS} FROM certificates WHERE name = ?`).all(name) as CertRow[]).map((row) => toCertificate(db, row, now))
}

/** Every certificate, soonest expiry first (`cert list`). */
export function listCertificates(db: Db, now = new Date()): Certificate[] {
  return (db.prepare(`SELECT ${FACTS} FROM certificates ORDER BY not_after, name`).all() as CertRow[]).map((row) =>
    toCertificate(db, row, now),
  )
}

export function getCertificateBundle(db: Db, id: string): CertificateBundle | undefined {
  const row = db.prepare('SELECT id, sans, cert_pem, chain_pem, key_pem FROM certificates WHERE id = ?').get(id) as
    | (CertificateMaterial & {id: string; sans: string})
    | undefined
  return row && {id: row.id, sans: JSON.parse(row.sans) as string[], cert_pem: row.cert_pem, chain_pem: row.chain_pem, key_pem: row.key_pem}
}

/** sha256 of each certificate's stored key, by id: lets the planner see a new key without holding keys. */
export function certificateKeyDigests(db: Db): Map<string, string> {
  const rows = db.prepare('SELECT id, key_pem FROM certificates').all() as {id: string; key_pem: string}[]
  return new Map(rows.map((row) => [row.id, keyDigest(row.key_pem)]))
}

export function keyDigest(keyPem: string): string {
  return createHash('sha256').update(keyPem).digest('hex')
}

export function deleteCertificateRow(db: Db, id: string): void {
  db.prepare('DELETE FROM certificates WHERE id = ?').run(id)
}

/** On an agent, certificates carry the controller's ids; their names are derived from them. */
const AGENT_NAME_PREFIX = 'agent-'

/** Stores a certificate a DEPLOY carried (agent side), keyed by the controller's id. */
export function upsertCertificateBundle(db: Db, bundle: CertificateBundle): void {
  const {facts, material} = checkBundle({certText: bundle.cert_pem, chainText: bundle.chain_pem, keyText: bundle.key_pem})
  if (getCertificate(db, bundle.id)) replaceCertificate(db, bundle.id, facts, material)
  else insertCertificate(db, {id: bundle.id, name: `${AGENT_NAME_PREFIX}${bundle.id}`, ...facts}, material)
}

/** Agent side: forgets certificates a controller sent that no hosted VIP serves any more. */
export function deleteUnusedAgentCertificates(db: Db): void {
  db.prepare(
    `DELETE FROM certificates WHERE name LIKE '${AGENT_NAME_PREFIX}%'
       AND id NOT IN (SELECT default_cert_id FROM vips WHERE default_cert_id IS NOT NULL)
       AND id NOT IN (SELECT cert_id FROM vip_sni_certs)`,
  ).run()
}
