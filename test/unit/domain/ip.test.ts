import {describe, expect, it} from 'vitest'

import {broadcastAddress, firstFreeHost, isUsableHost, networkContains, parseNetwork, type Network} from '../../../src/domain/ip.js'

function network(text: string): Network {
  const parsed = parseNetwork(text)
  if ('error' in parsed) throw new Error(parsed.error)
  return parsed
}

describe('parseNetwork', () => {
  it('canonicalises IPv4 and IPv6 networks', () => {
    expect(network('198.18.0.0/24')).toEqual({family: 4, address: '198.18.0.0', prefix: 24, cidr: '198.18.0.0/24'})
    expect(network('2001:DB8:0::/64').cidr).toBe('2001:db8::/64')
  })
  it('explains host bits', () => {
    expect(parseNetwork('198.18.0.5/24')).toEqual({error: expect.stringContaining('did you mean 198.18.0.0/24')})
  })
  it.each(['198.18.0.0', '198.18.0.0/33', '2001:db8::/129', 'lab/24', '198.18.0.0/24 ', '198.18.0.0/-1'])('rejects %j', (text) => {
    expect(parseNetwork(text)).toHaveProperty('error')
  })
})

describe('host addresses', () => {
  const v4 = network('198.18.0.0/24')
  const v6 = network('fd00:18::/64')
  it('network and broadcast are not usable', () => {
    expect(isUsableHost(v4, '198.18.0.0')).toBe(false)
    expect(isUsableHost(v4, '198.18.0.255')).toBe(false)
    expect(isUsableHost(v4, '198.18.0.1')).toBe(true)
    expect(isUsableHost(v4, '198.18.1.1')).toBe(false)
    expect(broadcastAddress(v4)).toBe('198.18.0.255')
    expect(broadcastAddress(v6)).toBeUndefined()
    expect(isUsableHost(v6, 'fd00:18::')).toBe(false)
    expect(isUsableHost(v6, 'fd00:18::ffff:ffff:ffff:ffff')).toBe(true)
  })
  it('containment is family-aware', () => {
    expect(networkContains(v4, 'fd00:18::1')).toBe(false)
    expect(networkContains(v6, 'FD00:18::1')).toBe(true)
  })
  it('finds the first free host', () => {
    expect(firstFreeHost(v4, new Set())).toBe('198.18.0.1')
    expect(firstFreeHost(v4, new Set(['198.18.0.1', '198.18.0.2']))).toBe('198.18.0.3')
    expect(firstFreeHost(v6, new Set(['fd00:18::1']))).toBe('fd00:18::2')
    const tiny = network('198.18.0.0/30')
    expect(firstFreeHost(tiny, new Set(['198.18.0.1', '198.18.0.2']))).toBeUndefined()
  })
})
