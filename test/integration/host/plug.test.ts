/**
 * Bridges, VIP plugs and namespaces against the real kernel: a private bridge on a claimed
 * test /24 (and an fd00::/8 ULA /64 for IPv6), `lbt` namespaces, lab backends on the same
 * bridge. Traffic stays on those bridges.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {request} from 'node:http'
import {randomBytes} from 'node:crypto'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {deleteBridge, deleteLink, ensureBridge, inspectLink, linkExists, listLinks, waitForLinkGone} from '../../../src/host/links.js'
import {deleteNamespace, deleteNamespaces, ensureNamespace, listNamespaces, namespaceExists} from '../../../src/host/netns.js'
import {plugVip, unplugNamespace, type PlugSpec} from '../../../src/host/plug.js'
import {recordCommands, run, startCommand} from '../../../src/host/run.js'
import {startBackend, stopBackend} from '../../../src/lab/lab-host.js'
import {labBackendScript} from '../../helpers/lab-backend.js'
import {tempDir} from '../../helpers/tmp.js'
import {claimTestCidr, uniqueSuffix} from '../../helpers/unique.js'

const suffix = uniqueSuffix(6)
const prefix = `lbt${suffix}`
const bridge = `${prefix}br`
const bridge6 = `${prefix}b6`
const cidr = claimTestCidr()
const base = cidr.base
const ula = `fd${randomBytes(1).toString('hex')}:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`
const dir = tempDir('lbaas-plug-')

const vip: PlugSpec = {
  namespace: `${prefix}v`,
  hostLink: `${prefix}vh`,
  bridge,
  address: `${base}.10`,
  prefixLength: 24,
  gateway: `${base}.1`,
  family: 4,
}
const vip6: PlugSpec = {
  namespace: `${prefix}v6`,
  hostLink: `${prefix}v6h`,
  bridge: bridge6,
  address: `${ula}::10`,
  prefixLength: 64,
  gateway: `${ula}::1`,
  family: 6,
}
const backends = [
  {namespace: `${prefix}b1`, hostLink: `${prefix}b1h`, bridge, address: `${base}.11`, prefixLength: 24, gateway: `${base}.1`, name: 'backend-1'},
  {namespace: `${prefix}b6`, hostLink: `${prefix}b6h`, bridge: bridge6, address: `${ula}::11`, prefixLength: 64, gateway: `${ula}::1`, name: 'backend-6'},
]

async function ns(namespace: string, argv: string[]): Promise<string> {
  return (await run(['ip', '-n', namespace, ...argv])).stdout
}

function httpGet(host: string, port: number, path = '/'): Promise<{status: number; body: string}> {
  return new Promise((resolve, reject) => {
    const req = request({host, port, path, timeout: 5_000}, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => (body += chunk))
      res.on('end', () => resolve({status: res.statusCode!, body}))
    })
    req.on('timeout', () => req.destroy(new Error(`GET http://${host}:${port}${path} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

beforeAll(async () => {
  const script = await labBackendScript()
  const created = await ensureBridge(bridge, {gatewayCidr: `${base}.1/24`})
  expect(created.map((change) => change.kind)).toEqual(['bridge-created', 'gateway-address'])
  expect(await ensureBridge(bridge, {gatewayCidr: `${base}.1/24`})).toEqual([])
  await ensureBridge(bridge6, {gatewayCidr: `${ula}::1/64`})
  for (const backend of backends) {
    await startBackend({...backend, port: 8000, controlDir: `${dir.path}/${backend.name}`, script})
  }
})

afterAll(async () => {
  try {
    for (const backend of backends) {
      await stopBackend({namespace: backend.namespace, hostLink: backend.hostLink, controlDir: `${dir.path}/${backend.name}`}).catch(() => undefined)
    }
    await deleteNamespaces(listNamespaces(prefix)).catch(() => undefined)
    // Namespaces held by orphaned TCP sockets keep their veths; delete what is left directly.
    await sleep(100)
    for (const link of listLinks(prefix)) await deleteLink(link).catch(() => undefined)
  } finally {
    cidr.release()
    dir.cleanup()
  }
})

describe('ensureBridge', () => {
  it('holds the gateway with its prefix, IPv6 without DAD, and repairs a lost address and a downed bridge', async () => {
    expect(inspectLink(bridge)).toMatchObject({exists: true, isBridge: true, up: true})
    expect((await run(['ip', '-6', 'addr', 'show', 'dev', bridge6])).stdout).toContain(`${ula}::1/64 scope global nodad`)
    await run(['ip', 'addr', 'del', `${base}.1/24`, 'dev', bridge])
    await run(['ip', 'link', 'set', bridge, 'down'])
    const repaired = await ensureBridge(bridge, {gatewayCidr: `${base}.1/24`})
    expect(repaired.map((change) => change.kind)).toEqual(['bridge-up', 'gateway-address'])
    expect((await run(['ip', '-4', 'addr', 'show', 'dev', bridge])).stdout).toContain(`inet ${base}.1/24`)
  })

  it('refuses to treat a link that is not a bridge as one', async () => {
    const veth = `${prefix}d`
    await run(['ip', 'link', 'add', veth, 'type', 'veth', 'peer', 'name', `${prefix}dp`])
    try {
      await expect(ensureBridge(veth)).rejects.toMatchObject({code: 'link_conflict'})
      await expect(deleteBridge(veth)).rejects.toMatchObject({code: 'link_conflict'})
      expect(linkExists(veth)).toBe(true)
    } finally {
      await run(['ip', 'link', 'del', veth])
    }
  })
})

describe('plugVip (IPv4)', () => {
  it('plugs a fresh namespace with two ip batches and announces the address', async () => {
    const recorder = recordCommands()
    const result = await plugVip(vip)
    recorder.stop()
    expect(result.changes.map((change) => change.kind)).toEqual(['namespace', 'veth', 'address', 'route'])
    expect(result.gratuitousArp).toBe('sent')
    expect(recorder.commands.filter((command) => command.argv[0] === 'ip' && command.argv.includes('-batch'))).toHaveLength(2)
    expect(inspectLink(vip.hostLink)).toMatchObject({exists: true, master: bridge, up: true})
    expect(await ns(vip.namespace, ['-4', 'addr', 'show', 'dev', 'vip0'])).toContain(`inet ${base}.10/24`)
    expect(await ns(vip.namespace, ['route', 'show', 'default'])).toContain(`default via ${base}.1 dev vip0`)
    expect(await ns(vip.namespace, ['link', 'show', 'lo'])).toMatch(/<LOOPBACK,UP/)
  })

  it('changes nothing on a second plug, reading the state with one ip process', async () => {
    const recorder = recordCommands()
    const result = await plugVip(vip)
    recorder.stop()
    expect(result).toEqual({changes: [], gratuitousArp: 'not-needed', warnings: []})
    expect(recorder.commands).toHaveLength(1)
  })

  it('reaches a lab backend on the bridge from the root namespace and from the VIP namespace', async () => {
    expect(await httpGet(`${base}.11`, 8000)).toEqual({status: 200, body: 'backend-1\n'})
    const inside = await run(['curl', '-sS', '--max-time', '5', `http://${base}.11:8000/`], {netns: vip.namespace})
    expect(inside.stdout).toBe('backend-1')
  })

  it.each([
    ['the address was removed', ['addr', 'del', `${base}.10/24`, 'dev', 'vip0'], ['address', 'route']],
    ['the default route was removed', ['route', 'del', 'default'], ['route']],
    // The kernel drops IPv4 routes through a link that goes down.
    ['the namespace end went down', ['link', 'set', 'vip0', 'down'], ['link-up', 'route']],
    ['a foreign address was added', ['addr', 'add', `${base}.99/24`, 'dev', 'vip0'], ['stale-address']],
  ])('repairs a plug where %s', async (_, damage, expected) => {
    await ns(vip.namespace, damage)
    const result = await plugVip(vip)
    expect(result.changes.map((change) => change.kind)).toEqual(expected)
    expect((await plugVip(vip)).changes).toEqual([])
    expect(await ns(vip.namespace, ['-4', 'addr', 'show', 'dev', 'vip0'])).not.toContain(`${base}.99`)
    expect((await run(['curl', '-sS', '--max-time', '5', `http://${base}.11:8000/`], {netns: vip.namespace})).stdout).toBe('backend-1')
  })

  it('re-attaches a host end detached from the bridge, and brings it up', async () => {
    await run(['ip', 'link', 'set', vip.hostLink, 'nomaster'])
    await run(['ip', 'link', 'set', vip.hostLink, 'down'])
    const result = await plugVip(vip)
    expect(result.changes.map((change) => change.kind)).toEqual(['bridge-port', 'host-up'])
    expect(inspectLink(vip.hostLink)).toMatchObject({master: bridge, up: true})
    expect((await run(['curl', '-sS', '--max-time', '5', `http://${base}.11:8000/`], {netns: vip.namespace})).stdout).toBe('backend-1')
  })

  it('re-creates a veth deleted from the root side', async () => {
    await run(['ip', 'link', 'del', vip.hostLink])
    const result = await plugVip(vip)
    expect(result.changes.map((change) => change.kind)).toEqual(['veth', 'address', 'route'])
    expect((await run(['curl', '-sS', '--max-time', '5', `http://${base}.11:8000/`], {netns: vip.namespace})).stdout).toBe('backend-1')
  })
})

describe('namespaces', () => {
  it('ensureNamespace creates once and brings lo up', async () => {
    const name = `${prefix}e`
    expect(await ensureNamespace(name)).toBe(true)
    expect(await ensureNamespace(name)).toBe(false)
    expect(await ns(name, ['link', 'show', 'lo'])).toMatch(/<LOOPBACK,UP/)
    expect(await deleteNamespace(name)).toBe(true)
    expect(await deleteNamespace(name)).toBe(false)
  })

  it('unplugging deletes the namespace, and the kernel removes the veth with it', async () => {
    const spec = {...vip, namespace: `${prefix}u`, hostLink: `${prefix}uh`, address: `${base}.20`}
    await plugVip(spec)
    expect(listNamespaces(prefix)).toContain(spec.namespace)
    expect(await unplugNamespace(spec.namespace)).toBe(true)
    expect(namespaceExists(spec.namespace)).toBe(false)
    expect(listNamespaces(prefix)).not.toContain(spec.namespace)
    expect(await waitForLinkGone(spec.hostLink, 2_000)).toBe(true)
    expect(await unplugNamespace(spec.namespace)).toBe(false)
  })

  it('unplugging with the host link removes the veth at once, even when closed connections still hold the namespace', async () => {
    const spec = {...vip, namespace: `${prefix}t`, hostLink: `${prefix}th`, address: `${base}.22`}
    await plugVip(spec)
    for (let i = 0; i < 3; i++) {
      expect((await run(['curl', '-sS', '--max-time', '5', `http://${base}.11:8000/`], {netns: spec.namespace})).stdout).toBe('backend-1')
    }
    expect(await unplugNamespace(spec.namespace, spec.hostLink)).toBe(true)
    expect(linkExists(spec.hostLink)).toBe(false)
    expect((await plugVip(spec)).changes.map((change) => change.kind)).toEqual(['namespace', 'veth', 'address', 'route'])
    expect(await unplugNamespace(spec.namespace, spec.hostLink)).toBe(true)
    expect(linkExists(spec.hostLink)).toBe(false)
  })

  it('re-plugs a namespace right after deleting it, while the old veth name may still be taken', async () => {
    const spec = {...vip, namespace: `${prefix}r`, hostLink: `${prefix}rh`, address: `${base}.21`}
    for (let round = 0; round < 5; round++) {
      await plugVip(spec)
      await unplugNamespace(spec.namespace)
      const result = await plugVip(spec)
      expect(result.changes.map((change) => change.kind)).toEqual(['namespace', 'veth', 'address', 'route'])
      await unplugNamespace(spec.namespace)
    }
    await plugVip(spec)
    expect((await plugVip(spec)).changes).toEqual([])
    expect(await httpGet(`${base}.11`, 8000)).toMatchObject({status: 200})
    await unplugNamespace(spec.namespace)
  })

  it('re-plugs when the deleted namespace is still held alive, replacing its veth', async () => {
    const spec = {...vip, namespace: `${prefix}h`, hostLink: `${prefix}hh`, address: `${base}.23`}
    await plugVip(spec)
    // A process inside keeps the namespace (and its veth) alive after `ip netns del`.
    const holder = await startCommand(['sleep', '60'], {netns: spec.namespace, timeoutMs: 60_000})
    try {
      await sleep(50)
      await unplugNamespace(spec.namespace)
      expect(linkExists(spec.hostLink)).toBe(true)
      const result = await plugVip(spec)
      expect(result.changes.map((change) => change.kind)).toEqual(['namespace', 'stale-link', 'veth', 'address', 'route'])
      expect(inspectLink(spec.hostLink)).toMatchObject({master: bridge, up: true})
      expect((await run(['curl', '-sS', '--max-time', '5', `http://${base}.11:8000/`], {netns: spec.namespace})).stdout).toBe('backend-1')
    } finally {
      holder.kill('SIGKILL')
      await holder.finished.catch(() => undefined)
      await unplugNamespace(spec.namespace, spec.hostLink)
    }
  })

  it('deletes many namespaces with one batch', async () => {
    const names = [`${prefix}m1`, `${prefix}m2`, `${prefix}m3`]
    for (const name of names) await ensureNamespace(name)
    expect(await deleteNamespaces([...names, `${prefix}m4`])).toEqual(names)
    expect(names.some((name) => namespaceExists(name))).toBe(false)
  })

  it('refuses to touch namespaces and links that are not ours', async () => {
    await expect(deleteNamespace('default')).rejects.toMatchObject({code: 'internal_error'})
    await expect(deleteBridge('docker0')).rejects.toMatchObject({code: 'internal_error'})
    expect(() => listNamespaces('')).toThrow(/not an lbaas prefix/)
  })

  it('refuses to plug into a bridge that does not exist', async () => {
    await expect(plugVip({...vip, namespace: `${prefix}x`, bridge: `${prefix}nobr`})).rejects.toMatchObject({code: 'bridge_missing'})
    expect(namespaceExists(`${prefix}x`)).toBe(false)
  })
})

describe('plugVip (IPv6)', () => {
  it('plugs with a usable (non-tentative) address and a default route, and reaches the backend', async () => {
    const result = await plugVip(vip6)
    expect(result.changes.map((change) => change.kind)).toEqual(['namespace', 'veth', 'address', 'route'])
    expect(result.gratuitousArp).toBe('not-needed')
    const addresses = await ns(vip6.namespace, ['-6', 'addr', 'show', 'dev', 'vip0', 'scope', 'global'])
    expect(addresses).toContain(`${ula}::10/64`)
    expect(addresses).not.toMatch(/tentative/)
    expect(await ns(vip6.namespace, ['-6', 'route', 'show', 'default'])).toContain(`default via ${ula}::1 dev vip0`)
    const inside = await run(['curl', '-sS', '--max-time', '5', `http://[${ula}::11]:8000/`], {netns: vip6.namespace})
    expect(inside.stdout).toBe('backend-6')
    expect(await httpGet(`${ula}::11`, 8000)).toEqual({status: 200, body: 'backend-6\n'})
    expect((await plugVip(vip6)).changes).toEqual([])
    expect(await unplugNamespace(vip6.namespace)).toBe(true)
    expect(linkExists(vip6.hostLink) ? await waitForLinkGone(vip6.hostLink, 2_000) : true).toBe(true)
  })
})
