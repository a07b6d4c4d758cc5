import {describe, expect, it} from 'vitest'

import {devicePlacement} from '../../../src/worker/device.js'
import {codeOf} from '../../helpers/errors.js'

describe('serve-worker options', () => {
  it('--device-subnet and --device-address go together', () => {
    expect(devicePlacement(undefined, undefined)).toEqual({mode: 'host'})
    expect(devicePlacement('lab', '198.18.0.50')).toEqual({mode: 'namespace', subnet: 'lab', address: '198.18.0.50'})
    expect(codeOf(() => devicePlacement('lab', undefined))).toBe('usage_error')
  })
})
