import {describe, expect, it} from 'vitest'
import {ExternalCommandError} from '../../../src/domain/errors.js'
import {ipBatch, isFileExists, parseJsonSequence} from '../../../src/host/ip-batch.js'

describe('parseJsonSequence', () => {
  it('splits the back-to-back documents of `ip -j -batch`', () => {
    const text = '[{"ifname":"lo","flags":["UP"]}]\n[{"dst":"default","gateway":"198.18.0.1"}]\n[]\n'
    expect(parseJsonSequence(text)).toEqual([[{ifname: 'lo', flags: ['UP']}], [{dst: 'default', gateway: '198.18.0.1'}], []])
  })

  it('is not confused by brackets inside strings', () => {
    expect(parseJsonSequence('[{"a":"]["}][{"b":"\\"]"}]')).toEqual([[{a: ']['}], [{b: '"]'}]])
  })

  it('returns nothing for empty output', () => {
    expect(parseJsonSequence('')).toEqual([])
  })
})

describe('ipBatch', () => {
  it.each(['link set lo up\nlink del eth0', 'addr add 1.2.3.4/24 dev "x"', 'link set lo up; reboot'])(
    'refuses a line that could smuggle in another command: %j',
    async (line) => {
      await expect(ipBatch([line])).rejects.toThrow(/unsafe line/)
    },
  )
})

describe('isFileExists', () => {
  it('recognises RTNETLINK EEXIST and nothing else', () => {
    expect(isFileExists(new ExternalCommandError(['ip'], 2, 'RTNETLINK answers: File exists'))).toBe(true)
    expect(isFileExists(new ExternalCommandError(['ip'], 2, 'Cannot find device "vip0"'))).toBe(false)
    expect(isFileExists(new Error('File exists'))).toBe(false)
  })
})
