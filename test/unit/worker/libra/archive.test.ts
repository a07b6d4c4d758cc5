import {describe, expect, it} from 'vitest'

import {archiveObjectName, md5Hex} from '../../../../src/worker/libra/archive.js'

describe('ARCHIVE object names', () => {
  it("are Libra's haproxy-YYYYmmdd-HHMMSS.log.gz in UTC", () => {
    expect(archiveObjectName(new Date(Date.UTC(2014, 0, 9, 5, 4, 3)))).toBe('haproxy-20140109-050403.log.gz')
  })

  it('the ETag is the MD5 of the body, in hex', () => {
    expect(md5Hex(Buffer.from('abc'))).toBe('900150983cd24fb0d6963f7d28e17f72')
  })
})
