/** When each stored TLS certificate (SPEC §9) expires, for `lbaas metrics` (SPEC §10). */
import {listCertificates} from './certificates.js'
import type {Db} from './db.js'

export interface CertificateExpiry {
  id: string
  name: string
  /** Epoch milliseconds of not_after. */
  not_after_ms: number
}

/** Every certificate, by name; one whose not_after is not a date is left out. */
export function certificateExpiries(db: Db): CertificateExpiry[] {
  return listCertificates(db)
    .flatMap((cert) => {
      const when = Date.parse(cert.not_after)
      return Number.isNaN(when) ? [] : [{id: cert.id, name: cert.name, not_after_ms: when}]
    })
    .sort((a, b) => a.name.localeCompare(b.name))
}
