import {describe, expect, it} from 'vitest'
import type {AddressEntry, LinkInfo} from '../../../src/host/links.js'
import type {Subnet} from '../../../src/domain/types.js'
import {namespaceFor, ownerTag, vipHostLink} from '../../../src/host/names.js'
import {planPlug, subnetPlugSpec, vipPlugSpec, type InterfaceSpec, type PlugObservation} from '../../../src/host/plug.js'
import {codeOf} from '../../helpers/errors.js'

const SPEC: InterfaceSpec = {
  namespace: 'lbaas-6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab',
  hostLink: 'lbv6f1c2d3e4a5',
  innerLink: 'vip0',
  bridge: 'lbbr-a1b2c3d4',
  address: '198.18.0.10',
  prefixLength: 24,
  gateway: '198.18.0.1',
  family: 4,
}

const HOST: LinkInfo = {name: SPEC.hostLink, exists: true, ifindex: 40, peerIfindex: 2, isBridge: false, master: SPEC.bridge, up: true}
const VIP: AddressEntry = {family: 'inet', local: '198.18.0.10', prefixlen: 24, scope: 'global'}
const LINK_LOCAL: AddressEntry = {family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link', tentative: true}

/** A namespace plugged exactly as SPEC asks. */
function healthy(): PlugObservation {
  return {
    namespaceExists: true,
    host: {...HOST},
    inside: {
      loopbackUp: true,
      inner: {peerIfindex: 40, up: true, addresses: [{...VIP}, {...LINK_LOCAL}]},
      defaultRoutes: [{family: 4, gateway: '198.18.0.1', dev: 'vip0'}],
    },
  }
}

const kinds = (plan: ReturnType<typeof planPlug>) => plan.changes.map((change) => change.kind)

describe('planPlug', () => {
  it('plans a fresh plug as one root batch and one namespace batch', () => {
    const plan = planPlug(SPEC, {namespaceExists: false, host: {name: SPEC.hostLink, exists: false, isBridge: false, up: false}})
    expect(plan.beforeRoot).toEqual([])
    expect(plan.root).toEqual([
      `netns add ${SPEC.namespace}`,
      `link add lbv6f1c2d3e4a5 up master lbbr-a1b2c3d4 type veth peer name vip0 netns ${SPEC.namespace}`,
    ])
    expect(plan.inside).toEqual([
      'link set lo up',
      'addr add 198.18.0.10/24 dev vip0',
      'link set vip0 up',
      'route replace 0.0.0.0/0 via 198.18.0.1 dev vip0',
    ])
    expect(kinds(plan)).toEqual(['namespace', 'veth', 'address', 'route'])
    expect(plan.announce).toBe(true)
  })

  it('changes nothing on a healthy plug', () => {
    const plan = planPlug(SPEC, healthy())
    expect(plan).toEqual({beforeRoot: [], root: [], inside: [], changes: [], announce: false})
  })

  it('re-attaches a host end that left the bridge, and brings it up', () => {
    const seen = healthy()
    seen.host = {...HOST, master: undefined, up: false}
    const plan = planPlug(SPEC, seen)
    expect(plan.root).toEqual(['link set lbv6f1c2d3e4a5 master lbbr-a1b2c3d4', 'link set lbv6f1c2d3e4a5 up'])
    expect(plan.inside).toEqual([])
    expect(kinds(plan)).toEqual(['bridge-port', 'host-up'])
    expect(plan.announce).toBe(false)
  })

  it('moves a host end that sits on another bridge', () => {
    const seen = healthy()
    seen.host = {...HOST, master: 'lbbr-00000000'}
    const plan = planPlug(SPEC, seen)
    expect(plan.root).toEqual(['link set lbv6f1c2d3e4a5 master lbbr-a1b2c3d4'])
    expect(plan.changes[0].detail).toMatch(/was on lbbr-00000000/)
  })

  it('re-adds a removed address, restores the route the kernel dropped with it, and announces it', () => {
    const seen = healthy()
    seen.inside!.inner!.addresses = [{...LINK_LOCAL}]
    seen.inside!.defaultRoutes = []
    const plan = planPlug(SPEC, seen)
    expect(plan.inside).toEqual(['addr add 198.18.0.10/24 dev vip0', 'route replace 0.0.0.0/0 via 198.18.0.1 dev vip0'])
    expect(kinds(plan)).toEqual(['address', 'route'])
    expect(plan.announce).toBe(true)
  })

  it('adds a missing default route alone', () => {
    const seen = healthy()
    seen.inside!.defaultRoutes = []
    const plan = planPlug(SPEC, seen)
    expect(plan.inside).toEqual(['route replace 0.0.0.0/0 via 198.18.0.1 dev vip0'])
    expect(kinds(plan)).toEqual(['route'])
  })

  it('replaces a default route through another gateway', () => {
    const seen = healthy()
    seen.inside!.defaultRoutes = [{family: 4, gateway: '198.18.0.254', dev: 'vip0'}]
    expect(planPlug(SPEC, seen).inside).toEqual(['route replace 0.0.0.0/0 via 198.18.0.1 dev vip0'])
  })

  it('removes other global addresses, also the VIP with a wrong prefix, but keeps link-local ones', () => {
    const seen = healthy()
    seen.inside!.inner!.addresses = [
      {...VIP, prefixlen: 16},
      {family: 'inet', local: '198.18.0.99', prefixlen: 24, scope: 'global'},
      {...LINK_LOCAL},
    ]
    const plan = planPlug(SPEC, seen)
    expect(plan.inside).toEqual([
      'addr del 198.18.0.10/16 dev vip0',
      'addr del 198.18.0.99/24 dev vip0',
      'addr add 198.18.0.10/24 dev vip0',
      'route replace 0.0.0.0/0 via 198.18.0.1 dev vip0',
    ])
    expect(kinds(plan)).toEqual(['stale-address', 'stale-address', 'address'])
  })

  it('brings a downed namespace end and loopback up, re-asserting the route', () => {
    const seen = healthy()
    seen.inside!.inner!.up = false
    seen.inside!.loopbackUp = false
    const plan = planPlug(SPEC, seen)
    expect(plan.inside).toEqual(['link set lo up', 'link set vip0 up', 'route replace 0.0.0.0/0 via 198.18.0.1 dev vip0'])
    expect(kinds(plan)).toEqual(['loopback', 'link-up'])
  })

  it('re-creates the veth when the namespace end is missing', () => {
    const seen = healthy()
    seen.inside!.inner = undefined
    seen.host = {name: SPEC.hostLink, exists: false, isBridge: false, up: false}
    const plan = planPlug(SPEC, seen)
    expect(plan.root).toEqual([`link add lbv6f1c2d3e4a5 up master lbbr-a1b2c3d4 type veth peer name vip0 netns ${SPEC.namespace}`])
    expect(plan.inside).toEqual(['addr add 198.18.0.10/24 dev vip0', 'link set vip0 up', 'route replace 0.0.0.0/0 via 198.18.0.1 dev vip0'])
  })

  it('replaces both ends when they are not each other’s peer', () => {
    const seen = healthy()
    seen.inside!.inner!.peerIfindex = 77
    const plan = planPlug(SPEC, seen)
    expect(plan.beforeRoot).toEqual(['link del vip0'])
    expect(plan.root).toEqual([
      'link del lbv6f1c2d3e4a5',
      `link add lbv6f1c2d3e4a5 up master lbbr-a1b2c3d4 type veth peer name vip0 netns ${SPEC.namespace}`,
    ])
    expect(kinds(plan)).toEqual(['stale-link', 'stale-link', 'veth', 'address', 'route'])
  })

  it('deletes a leftover host end that has no peer in the namespace', () => {
    const plan = planPlug(SPEC, {namespaceExists: false, host: {...HOST}})
    expect(plan.root).toEqual([
      `netns add ${SPEC.namespace}`,
      'link del lbv6f1c2d3e4a5',
      `link add lbv6f1c2d3e4a5 up master lbbr-a1b2c3d4 type veth peer name vip0 netns ${SPEC.namespace}`,
    ])
  })

  it('leaves routes alone without a gateway', () => {
    const plan = planPlug({...SPEC, gateway: null}, {namespaceExists: false, host: {name: SPEC.hostLink, exists: false, isBridge: false, up: false}})
    expect(plan.inside.some((line) => line.startsWith('route'))).toBe(false)
  })

  describe('IPv6', () => {
    const V6: InterfaceSpec = {...SPEC, address: 'fd00:18::10', prefixLength: 64, gateway: 'fd00:18::1', family: 6}

    it('adds the address with nodad and routes ::/0; no ARP', () => {
      const plan = planPlug(V6, {namespaceExists: false, host: {name: V6.hostLink, exists: false, isBridge: false, up: false}})
      expect(plan.inside).toEqual([
        'link set lo up',
        'addr add fd00:18::10/64 dev vip0 nodad',
        'link set vip0 up',
        'route replace ::/0 via fd00:18::1 dev vip0',
      ])
      expect(plan.announce).toBe(false)
    })

    it('replaces a tentative VIP address so HAProxy never binds a tentative one', () => {
      const seen = healthy()
      seen.inside!.inner!.addresses = [{family: 'inet6', local: 'fd00:18:0::10', prefixlen: 64, scope: 'global', tentative: true}]
      seen.inside!.defaultRoutes = [{family: 6, gateway: 'fd00:18:0:0::1', dev: 'vip0'}]
      const plan = planPlug(V6, seen)
      expect(plan.inside).toEqual([
        'addr del fd00:18:0::10/64 dev vip0',
        'addr add fd00:18::10/64 dev vip0 nodad',
        'route replace ::/0 via fd00:18::1 dev vip0',
      ])
    })

    it('compares addresses in canonical form', () => {
      const seen = healthy()
      seen.inside!.inner!.addresses = [{family: 'inet6', local: 'FD00:18:0:0:0:0:0:10', prefixlen: 64, scope: 'global', nodad: true} as AddressEntry]
      seen.inside!.defaultRoutes = [{family: 6, gateway: 'fd00:18::1', dev: 'vip0'}]
      expect(planPlug(V6, seen).changes).toEqual([])
    })
  })
})

describe('the plug spec of a subnet (one derivation for a pool, an HA peer and the Libra device)', () => {
  const RUN_DIR = '/var/lib/lbaas/run'
  const POOL = '6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab'
  const V4: Subnet = {id: 'a1b2c3d4-0000-4000-8000-000000000001', name: 'web', cidr: '198.18.0.0/24', gateway_ip: '198.18.0.1', bridge: 'lbbr-a1b2c3d4', managed: true}
  const V6: Subnet = {...V4, cidr: 'fd00:18::/64', gateway_ip: 'fd00:18::1'}

  it("takes bridge, prefix, family and gateway from the subnet, the owner tag from the run dir, names from names.ts", () => {
    expect(vipPlugSpec(RUN_DIR, POOL, V4, '198.18.0.10')).toEqual({
      namespace: namespaceFor(POOL),
      hostLink: vipHostLink(POOL),
      bridge: 'lbbr-a1b2c3d4',
      address: '198.18.0.10',
      prefixLength: 24,
      gateway: '198.18.0.1',
      family: 4,
      owner: ownerTag(RUN_DIR),
    })
    expect(vipPlugSpec(RUN_DIR, POOL, V6, 'fd00:18::10')).toMatchObject({prefixLength: 64, family: 6, gateway: 'fd00:18::1'})
  })

  it('keeps the addresses someone else manages (an HA peer\'s VIP) only when given', () => {
    const placement = {namespace: 'lbaas-x-a', hostLink: 'lbvxa', address: '198.18.0.2'}
    expect(subnetPlugSpec(RUN_DIR, V4, placement)).not.toHaveProperty('foreignAddresses')
    expect(subnetPlugSpec(RUN_DIR, V4, {...placement, foreignAddresses: ['198.18.0.10']}).foreignAddresses).toEqual(['198.18.0.10'])
  })

  it('a subnet whose CIDR does not parse is an internal error', () => {
    expect(codeOf(() => vipPlugSpec(RUN_DIR, POOL, {...V4, cidr: 'nonsense'}, '198.18.0.10'))).toBe('internal_error')
  })
})
