import {describe, expect, it} from 'vitest'

import {parseAdminStatus, parseAdminVersion, parseAdminWorkers, readAdminResponse} from '../../../src/gearman/codec.js'
import {GearmanProtocolError} from '../../../src/gearman/errors.js'

describe('readAdminResponse', () => {
  it('waits for the line holding only "." of a multi-line answer', () => {
    expect(readAdminResponse('', true)).toBeUndefined()
    expect(readAdminResponse('echo\t0\t0\t1\n', true)).toBeUndefined()
    expect(readAdminResponse('echo\t0\t0\t1\n.', true)).toBeUndefined()
    expect(readAdminResponse('echo\t0\t0\t1\nother\t2\t1\t0\n.\n', true)).toEqual({
      lines: ['echo\t0\t0\t1', 'other\t2\t1\t0'],
    })
    expect(readAdminResponse('.\n', true)).toEqual({lines: []})
  })

  it('takes the first line of a single-line answer', () => {
    expect(readAdminResponse('OK 1.1.2', false)).toBeUndefined()
    expect(readAdminResponse('OK 1.1.20+ds\n', false)).toEqual({lines: ['OK 1.1.20+ds']})
  })

  it('decodes gearmand ERR lines (CRLF, + for spaces)', () => {
    expect(readAdminResponse('ERR UNKNOWN_COMMAND Unknown+server+command\r\n', true)).toEqual({
      error: 'UNKNOWN_COMMAND: Unknown server command',
    })
  })
})

describe('parseAdminStatus', () => {
  it('reads function, total, running and available workers', () => {
    expect(parseAdminStatus(['lb-host-1\t3\t1\t2', 'a b\t0\t0\t0'])).toEqual([
      {function: 'lb-host-1', total: 3, running: 1, availableWorkers: 2},
      {function: 'a b', total: 0, running: 0, availableWorkers: 0},
    ])
  })

  it('rejects malformed lines', () => {
    expect(() => parseAdminStatus(['fn\t1\t2'])).toThrow(GearmanProtocolError)
    expect(() => parseAdminStatus(['fn\tx\t2\t3'])).toThrow(GearmanProtocolError)
  })
})

describe('parseAdminWorkers', () => {
  it('reads fd, ip, client id and functions, including connections without either', () => {
    expect(
      parseAdminWorkers(['33 127.0.0.1 lb-host-1 : lb-host-1 other', '19 127.0.0.1 - :', '40 ::1 my client : f']),
    ).toEqual([
      {fd: 33, ip: '127.0.0.1', clientId: 'lb-host-1', functions: ['lb-host-1', 'other']},
      {fd: 19, ip: '127.0.0.1', clientId: '-', functions: []},
      {fd: 40, ip: '::1', clientId: 'my client', functions: ['f']},
    ])
  })

  it('rejects malformed lines', () => {
    expect(() => parseAdminWorkers(['no separator here'])).toThrow(GearmanProtocolError)
    expect(() => parseAdminWorkers(['x 127.0.0.1 id : f'])).toThrow(GearmanProtocolError)
  })
})

describe('parseAdminVersion', () => {
  it('strips the OK prefix', () => {
    expect(parseAdminVersion('OK 1.1.20+ds')).toBe('1.1.20+ds')
    expect(parseAdminVersion('1.0')).toBe('1.0')
  })
})
