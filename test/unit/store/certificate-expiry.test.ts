import {afterEach, describe, expect, it} from 'vitest'

import {certificateExpiries} from '../../../src/store/certificate-expiry.js'
import {insertCertificate} from '../../../src/store/certificates.js'
import {openStore} from '../../../src/store/db.js'
import {tempDir} from '../../helpers/tmp.js'

const dirs: {cleanup(): void}[] = []
afterEach(() => dirs.splice(0).forEach((dir) => dir.cleanup()))

const facts = (notAfter: string) => ({subject: 'CN=x', sans: ['x'], issuer: 'CN=ca', not_before: '2026-01-01T00:00:00Z', not_after: notAfter, fingerprint_sha256: 'ab', key_type: 'EC P-256'})
const material = {cert_pem: 'leaf\n', chain_pem: '', key_pem: 'key\n'}

describe('certificateExpiries', () => {
  it('reads nothing without certificates, and each one’s not_after by name once there are some', () => {
    const dir = tempDir('lbaas-cert-expiry-')
    dirs.push(dir)
    const store = openStore(`${dir.path}/state.db`)
    try {
      expect(certificateExpiries(store.db)).toEqual([])
      insertCertificate(store.db, {id: 'c2', name: 'www', ...facts('2027-01-01T00:00:00Z')}, material)
      insertCertificate(store.db, {id: 'c1', name: 'api', ...facts('2028-06-01T00:00:00Z')}, material)
      expect(certificateExpiries(store.db)).toEqual([
        {id: 'c1', name: 'api', not_after_ms: Date.parse('2028-06-01T00:00:00Z')},
        {id: 'c2', name: 'www', not_after_ms: Date.parse('2027-01-01T00:00:00Z')},
      ])
    } finally {
      store.close()
    }
  })
})
