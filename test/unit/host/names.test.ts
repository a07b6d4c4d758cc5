import {describe, expect, it} from 'vitest'
import {
  assertOwnedLink,
  assertOwnedNamespace,
  assertOwnedPrefix,
  checkedRunDir,
  checkSocketPath,
  labBackendDir,
  labBackendNames,
  labNamespacePrefix,
  managedBridgeFor,
  MAX_RUN_DIR_BYTES,
  MAX_SOCKET_PATH_BYTES,
  namespaceFor,
  poolIdFromNamespace,
  poolIdsIn,
  poolLockPath,
  poolPaths,
  vipHostLink,
} from '../../../src/host/names.js'
import {codeOf} from '../../helpers/errors.js'

const POOL = '6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab'
const SUBNET = 'a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d'

describe('host names', () => {
  it('derives namespace, VIP link and bridge names from ids', () => {
    expect(namespaceFor(POOL)).toBe(`lbaas-${POOL}`)
    expect(vipHostLink(POOL)).toBe('lbv6f1c2d3e4a5')
    expect(managedBridgeFor(SUBNET)).toBe('lbbr-a1b2c3d4')
  })

  it('keeps interface names within 15 characters', () => {
    expect(vipHostLink(POOL).length).toBeLessThanOrEqual(15)
    expect(managedBridgeFor(SUBNET).length).toBeLessThanOrEqual(15)
    expect(labBackendNames(SUBNET, 9999).hostLink.length).toBeLessThanOrEqual(15)
  })

  it('normalises upper-case ids so the same pool always gets the same names', () => {
    expect(namespaceFor(POOL.toUpperCase())).toBe(namespaceFor(POOL))
    expect(vipHostLink(POOL.toUpperCase())).toBe(vipHostLink(POOL))
  })

  it.each(['', 'web', '../etc', `${POOL}/x`, `${POOL}\n`, 'lbaas-x', '6f1c2d3e-4a5b-4c6d-8e7f-0123456789a'])(
    'refuses to build anything from the unchecked id %j',
    (id) => {
      expect(codeOf(() => namespaceFor(id))).toBe('internal_error')
      expect(codeOf(() => vipHostLink(id))).toBe('internal_error')
      expect(codeOf(() => managedBridgeFor(id))).toBe('internal_error')
      expect(codeOf(() => poolPaths('/run/lbaas', id))).toBe('internal_error')
      expect(codeOf(() => poolLockPath('/run/lbaas', id))).toBe('internal_error')
    },
  )

  it('reads the pool id back from a pool namespace and nothing else', () => {
    expect(poolIdFromNamespace(namespaceFor(POOL))).toBe(POOL)
    expect(poolIdFromNamespace('lbaas-not-an-id')).toBeUndefined()
    expect(poolIdFromNamespace(`qlbaas-${POOL}`)).toBeUndefined()
    expect(poolIdFromNamespace(`lab-${POOL}`)).toBeUndefined()
  })

  it('gives lab backends distinct names that carry the lab prefixes', () => {
    const first = labBackendNames(SUBNET, 1)
    const eleventh = labBackendNames(SUBNET, 11)
    expect(first).toEqual({namespace: 'lab-a1b2c3d4-1', hostLink: 'lbla1b2c3d41'})
    expect(eleventh.hostLink).toBe('lbla1b2c3d411')
    expect(eleventh.namespace.startsWith(labNamespacePrefix(SUBNET))).toBe(true)
    expect(codeOf(() => labBackendNames(SUBNET, 10_000))).toBe('internal_error')
    expect(codeOf(() => labBackendNames(SUBNET, 1.5))).toBe('internal_error')
  })

  it('lays out the run dir per pool', () => {
    const paths = poolPaths('/var/lib/lbaas/run/', POOL)
    expect(paths.dir).toBe(`/var/lib/lbaas/run/${POOL}`)
    expect(paths.config).toBe(`${paths.dir}/haproxy.cfg`)
    expect(paths.configNew).toBe(`${paths.dir}/haproxy.cfg.new`)
    expect(paths.configRejected).toBe(`${paths.dir}/haproxy.cfg.rejected`)
    expect(new Set(Object.values(paths)).size).toBe(Object.keys(paths).length)
    expect(poolLockPath('/var/lib/lbaas/run', POOL)).toBe(`/var/lib/lbaas/run/locks/${POOL}.lock`)
    expect(labBackendDir('/var/lib/lbaas/run', SUBNET, 2)).toBe('/var/lib/lbaas/run/lab/lab-a1b2c3d4-2')
  })

  it('accepts the longest run dir and refuses one byte more with run_dir_too_long', () => {
    const longest = `/${'r'.repeat(MAX_RUN_DIR_BYTES - 1)}`
    expect(Buffer.byteLength(poolPaths(longest, POOL).masterSocket)).toBe(MAX_SOCKET_PATH_BYTES)
    const error = (() => {
      try {
        poolPaths(`${longest}x`, POOL)
      } catch (caught) {
        return caught as {code: string; exit: number; suggestion?: string}
      }
    })()
    expect(error?.code).toBe('run_dir_too_long')
    expect(error?.exit).toBe(2)
    expect(error?.suggestion).toMatch(/--run-dir/)
    expect(codeOf(() => checkSocketPath(`/${'s'.repeat(MAX_SOCKET_PATH_BYTES)}`))).toBe('run_dir_too_long')
  })

  it.each(['/tmp/has space', '/tmp/hash#dir', '/tmp/new\nline', "/tmp/quo'te"])('refuses run dir %j that would break haproxy.cfg', (dir) => {
    expect(codeOf(() => checkedRunDir(dir))).toBe('invalid_run_dir')
  })

  it('resolves a relative run dir', () => {
    expect(checkedRunDir('run')).toBe(`${process.cwd()}/run`)
  })

  it('guards namespaces and links that are not ours', () => {
    expect(assertOwnedNamespace(namespaceFor(POOL))).toBe(namespaceFor(POOL))
    expect(assertOwnedNamespace('lab-a1b2c3d4-1')).toBe('lab-a1b2c3d4-1')
    expect(assertOwnedNamespace('lbtx1')).toBe('lbtx1')
    for (const foreign of ['qlbaas-x', 'docker0', 'lbaas-', 'cni-1234', '', 'lbaas-x/../../etc']) {
      expect(codeOf(() => assertOwnedNamespace(foreign))).toBe('internal_error')
    }
    expect(assertOwnedLink(vipHostLink(POOL))).toBe(vipHostLink(POOL))
    expect(assertOwnedLink('lbbr-a1b2c3d4')).toBe('lbbr-a1b2c3d4')
    for (const foreign of ['eth0', 'br0', 'lbbr-a1b2c3d4567890', 'lo', 'lbv']) {
      expect(codeOf(() => assertOwnedLink(foreign))).toBe('internal_error')
    }
    expect(codeOf(() => assertOwnedPrefix('', 'namespace'))).toBe('internal_error')
    expect(codeOf(() => assertOwnedPrefix('lb', 'link'))).toBe('internal_error')
    expect(assertOwnedPrefix('lab-a1b2c3d4-', 'namespace')).toBe('lab-a1b2c3d4-')
  })

  it('recognises pool directories among run-dir entries', () => {
    expect(poolIdsIn(['locks', 'lab', POOL, POOL.toUpperCase(), 'x.tmp'])).toEqual([POOL])
  })
})
