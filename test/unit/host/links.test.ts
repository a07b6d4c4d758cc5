import {describe, expect, it} from 'vitest'

import type {Subnet} from '../../../src/domain/types.js'
import {bridgeGatewayCidr} from '../../../src/host/links.js'
import {codeOf} from '../../helpers/errors.js'

describe("a managed subnet's bridge address", () => {
  const SUBNET: Subnet = {id: 'a1b2c3d4-0000-4000-8000-000000000001', name: 'web', cidr: '198.18.4.0/22', gateway_ip: '198.18.4.1', bridge: 'lbbr-a1b2c3d4', managed: true}

  it("is the gateway with the subnet's prefix (what ensureSubnet sets and sync inspects)", () => {
    expect(bridgeGatewayCidr(SUBNET)).toBe('198.18.4.1/22')
    expect(bridgeGatewayCidr({...SUBNET, cidr: 'fd00:18::/64', gateway_ip: 'fd00:18::1'})).toBe('fd00:18::1/64')
  })

  it('a CIDR that does not parse is an internal error', () => {
    expect(codeOf(() => bridgeGatewayCidr({...SUBNET, cidr: 'nonsense'}))).toBe('internal_error')
  })
})
