import {describe, expect, it} from 'vitest'

import {isFunctionName} from '../../../src/gearman/function-name.js'

describe('isFunctionName (serve-worker --function, agent names, --agents of an HA pool)', () => {
  it('checks function names one way', () => {
    expect(isFunctionName('lb-01.example')).toBe(true)
    for (const bad of ['', 'a b', 'a\0b', 'x'.repeat(256), 7]) expect(isFunctionName(bad)).toBe(false)
  })
})
