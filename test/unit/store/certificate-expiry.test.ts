import {afterEach, describe, expect, it} from 'vitest'

import {certificateExpiries} from '../../../src/store/certificate-expiry.js'
import {openStore} from '../../../src/store/db.js'
import {tempDir} from '../../helpers/tmp.js'

const dirs: {cleanup(): void}[] = []
afterEach(() => dirs.splice(0).forEach((dir) => dir.cleanup()))

describe('certificateExpiries', () => {
  it('reads nothing without a certificates table, and not_after once there is one', () => {
    const dir = tempDir('lbaas-cert-expiry-')
    dirs.push(dir)
    const store = openStore(`${dir.path}/state.db`)
    try {
      // Once the certificates migration (SPEC §9) is merged the table exists, empty.
      expect(certificateExpiries(store.db)).toEqual([])
      store.db.exec('DROP TABLE IF EXISTS certificates')
      store.db.exec('CREATE TABLE certificates (id TEXT PRIMARY KEY, name TEXT, not_after TEXT)')
      store.db.prepare('INSERT INTO certificates (id, name, not_after) VALUES (?, ?, ?)').run('c1', 'www', '2027-01-01T00:00:00Z')
      expect(certificateExpiries(store.db)).toEqual([{id: 'c1', name: 'www', not_after_ms: Date.parse('2027-01-01T00:00:00Z')}])
    } finally {
      store.close()
    }
  })
})
