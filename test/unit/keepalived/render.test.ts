import {describe, expect, it} from 'vitest'
import {
  checkPeerSpec,
  DEFAULT_ADVERT_CENTISECONDS,
  DEFAULT_GARP,
  formatAdvertInterval,
  parseVrrpState,
  renderCheckScript,
  renderKeepalivedConfig,
  renderNotifyScript,
  vrrpInstanceName,
  type KeepalivedPeerSpec,
} from '../../../src/keepalived/render.js'

const POOL = '11111111-2222-4333-8444-555555555555'

function spec(overrides: Partial<KeepalivedPeerSpec> = {}): KeepalivedPeerSpec {
  return {
    poolId: POOL,
    role: 'a',
    interface: 'vip0',
    virtualRouterId: 51,
    priority: 100,
    peerAddress: '198.18.0.11',
    otherPeerAddress: '198.18.0.12',
    vipAddress: '198.18.0.100',
    prefixLength: 24,
    advertCentiseconds: DEFAULT_ADVERT_CENTISECONDS,
    check: {argv: ['/run/lbaas/p/check.sh', '/run/lbaas/p/stats.sock'], intervalSeconds: 1, timeoutSeconds: 2, fall: 2, rise: 2},
    notifyArgv: ['/run/lbaas/p/notify.sh', '/run/lbaas/p/vrrp-state'],
    garp: DEFAULT_GARP,
    ...overrides,
  }
}

function lines(text: string): string[] {
  return text.split('\n').map((line) => line.trim())
}

describe('renderKeepalivedConfig', () => {
  it('matches the golden file for peer a (test/fixtures/keepalived/peer-a.conf)', async () => {
    await expect(renderKeepalivedConfig(spec())).toMatchFileSnapshot('../../fixtures/keepalived/peer-a.conf')
  })

  it('matches the golden file for an IPv6 peer b', async () => {
    const ipv6 = spec({role: 'b', priority: 90, peerAddress: '2001:db8::12', otherPeerAddress: '2001:db8::11', vipAddress: '2001:db8::100', prefixLength: 64})
    await expect(renderKeepalivedConfig(ipv6)).toMatchFileSnapshot('../../fixtures/keepalived/peer-b-ipv6.conf')
  })

  it('is deterministic', () => {
    expect(renderKeepalivedConfig(spec())).toBe(renderKeepalivedConfig(spec()))
  })

  it('starts both peers as BACKUP with nopreempt, accept, and never vrrp_strict', () => {
    for (const role of ['a', 'b'] as const) {
      const rendered = lines(renderKeepalivedConfig(spec({role})))
      expect(rendered).toContain('state BACKUP')
      expect(rendered).toContain('nopreempt')
      expect(rendered).toContain('accept')
      expect(rendered).not.toContain('state MASTER')
      expect(rendered.some((line) => line.includes('vrrp_strict'))).toBe(false)
    }
  })

  it('speaks unicast from its own address to the other peer only', () => {
    const rendered = renderKeepalivedConfig(spec())
    expect(rendered).toContain('unicast_src_ip 198.18.0.11\n')
    expect(rendered).toMatch(/unicast_peer \{\n\s+198\.18\.0\.12\n\s+\}/)
  })

  it('puts the VIP on the namespace interface with the subnet prefix', () => {
    expect(lines(renderKeepalivedConfig(spec()))).toContain('198.18.0.100/24 dev vip0')
  })

  it('writes router id, priority, advert interval and gratuitous ARP settings', () => {
    const rendered = lines(renderKeepalivedConfig(spec({virtualRouterId: 7, priority: 90})))
    expect(rendered).toEqual(
      expect.arrayContaining([
        'virtual_router_id 7',
        'priority 90',
        'advert_int 0.5',
        'vrrp_version 3',
        'garp_master_delay 1',
        'garp_master_repeat 3',
        'garp_master_refresh 10',
        'enable_script_security',
        'script_user root',
      ]),
    )
  })

  it('tracks a check script on the stats socket and notifies a state file, each as one quoted argv', () => {
    const rendered = renderKeepalivedConfig(spec())
    expect(rendered).toContain('script "/run/lbaas/p/check.sh /run/lbaas/p/stats.sock"\n')
    expect(rendered).toContain('notify "/run/lbaas/p/notify.sh /run/lbaas/p/vrrp-state"\n')
    expect(rendered).toMatch(/track_script \{\n\s+lbaas_11111111222243338444555555555555_haproxy\n/)
  })

  it.each([
    ['a newline in a script word', {notifyArgv: ['/x/notify.sh', '/x/state\nvrrp_strict']}],
    ['a space in a script word', {check: {...spec().check, argv: ['/x/check.sh', 'a b']}}],
    ['a quote', {notifyArgv: ['/x/n.sh', '/x/"s']}],
    ['a comment', {notifyArgv: ['/x/n.sh', '/x/#s']}],
    ['a ! comment', {notifyArgv: ['/x/n.sh', '/x/!s']}],
    ['a $ expansion', {notifyArgv: ['/x/n.sh', '/x/$HOME']}],
    ['a brace', {notifyArgv: ['/x/n.sh', '/x/}']}],
    ['a relative program', {notifyArgv: ['notify.sh']}],
    ['an empty argv', {notifyArgv: []}],
    ['a bad interface', {interface: 'vip0 dev lo'}],
    ['a long interface', {interface: 'abcdefghijklmnop'}],
    ['router id 0', {virtualRouterId: 0}],
    ['router id 256', {virtualRouterId: 256}],
    ['priority 255 (the address owner)', {priority: 255}],
    ['priority 0', {priority: 0}],
    ['a fractional priority', {priority: 1.5}],
    ['a non-canonical address', {peerAddress: '198.018.0.11'}],
    ['an address with a prefix', {vipAddress: '198.18.0.100/24'}],
    ['a VIP equal to a peer', {vipAddress: '198.18.0.11'}],
    ['two equal peers', {otherPeerAddress: '198.18.0.11'}],
    ['mixed families', {otherPeerAddress: '2001:db8::12'}],
    ['prefix 33 on IPv4', {prefixLength: 33}],
    ['advert 0', {advertCentiseconds: 0}],
    ['a bad pool id', {poolId: 'web'}],
    ['a bad role', {role: 'c' as 'a'}],
    ['check fall 0', {check: {...spec().check, fall: 0}}],
  ])('refuses %s before anything is written', (_what, overrides) => {
    expect(() => renderKeepalivedConfig(spec(overrides as Partial<KeepalivedPeerSpec>))).toThrow(
      expect.objectContaining({code: 'keepalived_render_unsafe'}),
    )
  })

  it('checkPeerSpec returns the family', () => {
    expect(checkPeerSpec(spec())).toBe(4)
  })
})

describe('formatAdvertInterval', () => {
  it.each([
    [100, '1'],
    [50, '0.5'],
    [25, '0.25'],
    [150, '1.5'],
    [300, '3'],
  ])('%i cs → %s', (centiseconds, text) => {
    expect(formatAdvertInterval(centiseconds)).toBe(text)
  })
})

describe('vrrpInstanceName', () => {
  it('is lbaas_ and the 32 hex digits of the pool id', () => {
    expect(vrrpInstanceName(POOL.toUpperCase())).toBe('lbaas_11111111222243338444555555555555')
  })
})

describe('scripts', () => {
  it('notify writes only known states, atomically, to the file named by its first argument', () => {
    const script = renderNotifyScript()
    expect(script.startsWith('#!/bin/sh\n')).toBe(true)
    expect(script).toContain('case "$4" in MASTER|BACKUP|FAULT|STOP) ;; *) exit 0 ;; esac')
    expect(script).toContain('> "$1.tmp" && mv -f "$1.tmp" "$1"')
  })

  it('check asks HAProxy for show info on the socket named by its argument', () => {
    expect(renderCheckScript()).toContain('"UNIX-CONNECT:$1"')
    expect(renderCheckScript()).toContain("grep -q '^Pid: '")
  })

  it('parseVrrpState reads the notify file', () => {
    expect(parseVrrpState('MASTER\n')).toBe('MASTER')
    expect(parseVrrpState('BACKUP')).toBe('BACKUP')
    expect(parseVrrpState('master')).toBeUndefined()
    expect(parseVrrpState('')).toBeUndefined()
  })
})
