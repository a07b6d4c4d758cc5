import type {CertificateBundle, PoolGraph, Vip} from '../domain/types.js'
import {getCertificateBundle} from './certificates.js'
import type {Db} from './db.js'
import {listMembers} from './members.js'
import {getMonitor, listAssociations} from './monitors.js'
import {getPool} from './pools.js'
import {getSubnet} from './subnets.js'
import {getVipOfPool} from './vips.js'

/** Everything one pool's deployment needs, read in one snapshot. */
export function loadPoolGraph(db: Db, poolId: string): PoolGraph | undefined {
  const pool = getPool(db, poolId)
  if (!pool) return undefined
  const subnet = getSubnet(db, pool.subnet_id)
  if (!subnet) throw new Error(`internal: pool ${poolId} refers to missing subnet ${pool.subnet_id}`)
  const associations = listAssociations(db, {poolId})
  const monitors = associations.map((association) => {
    const monitor = getMonitor(db, association.monitor_id)
    if (!monitor) throw new Error(`internal: association refers to missing monitor ${association.monitor_id}`)
    return monitor
  })
  const vip = getVipOfPool(db, poolId) ?? null
  const vipSubnet = vip ? (getSubnet(db, vip.subnet_id) ?? null) : null
  return {pool, subnet, members: listMembers(db, poolId), monitors, associations, vip, vipSubnet, certs: vipCertificates(db, vip)}
}

/** The certificates a VIP serves, default first, each once. */
export function vipCertificates(db: Db, vip: Vip | null): CertificateBundle[] {
  if (!vip || vip.protocol !== 'TERMINATED_HTTPS') return []
  const ids = [...new Set([vip.default_cert, ...vip.sni_certs].filter((id): id is string => id !== null))]
  return ids.map((id) => {
    const bundle = getCertificateBundle(db, id)
    if (!bundle) throw new Error(`internal: VIP ${vip.id} refers to missing certificate ${id}`)
    return bundle
  })
}
