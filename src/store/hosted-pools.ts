/**
 * Pools an agent hosts for a controller (SPEC §6): the graph a DEPLOY carried, stored with
 * the controller's ids so `lbaas sync` on the agent's host rebuilds them after a reboot.
 * Call inside `store.write`.
 */
import {ConflictError} from '../domain/errors.js'
import {monitorSettings, type PoolGraph, type Subnet} from '../domain/types.js'
import {deleteUnusedAgentCertificates, upsertCertificateBundle} from './certificates.js'
import type {Db} from './db.js'
import {insertMember} from './members.js'
import {insertMonitor, updateMonitorRow} from './monitors.js'
import {insertVip} from './vips.js'

function subnetInUse(db: Db, id: string): boolean {
  return (
    db.prepare('SELECT 1 FROM pools WHERE subnet_id = ? UNION ALL SELECT 1 FROM vips WHERE subnet_id = ?').get(id, id) !== undefined ||
    db.prepare('SELECT 1 FROM lab_backends WHERE subnet_id = ?').get(id) !== undefined ||
    db.prepare('SELECT 1 FROM libra_device WHERE subnet_id = ?').get(id) !== undefined
  )
}

function upsertSubnet(db: Db, subnet: Subnet): void {
  const clash = db.prepare('SELECT id FROM subnets WHERE name = ? AND id <> ?').pluck().get(subnet.name, subnet.id) as string | undefined
  if (clash) {
    // A copy of a subnet the controller has since deleted and made again: nothing uses it.
    if (!subnetInUse(db, clash)) db.prepare('DELETE FROM subnets WHERE id = ?').run(clash)
    else {
      throw new ConflictError(
        'duplicate_name',
        `this agent already has another subnet named ${subnet.name} (${clash}) in use; rename one of them`,
      )
    }
  }
  db.prepare(
    `INSERT INTO subnets (id, name, cidr, gateway_ip, bridge, managed) VALUES (@id, @name, @cidr, @gateway_ip, @bridge, @managed)
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, cidr = excluded.cidr, gateway_ip = excluded.gateway_ip,
       bridge = excluded.bridge, managed = excluded.managed`,
  ).run({...subnet, managed: subnet.managed ? 1 : 0})
}

/** Makes the state file hold exactly `graph` for its pool (same ids as the controller). */
export function upsertPoolGraph(db: Db, graph: PoolGraph): void {
  const {pool} = graph
  upsertSubnet(db, graph.subnet)
  if (graph.vipSubnet && graph.vipSubnet.id !== graph.subnet.id) upsertSubnet(db, graph.vipSubnet)
  db.prepare(
    `INSERT INTO pools (id, name, description, subnet_id, protocol, lb_method, admin_state_up, status, status_description, operating_status, agent)
     VALUES (@id, @name, @description, @subnet_id, @protocol, @lb_method, @admin_state_up, @status, @status_description, @operating_status, 'local')
     ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, subnet_id = excluded.subnet_id,
       protocol = excluded.protocol, lb_method = excluded.lb_method, admin_state_up = excluded.admin_state_up,
       status = excluded.status, status_description = excluded.status_description, agent = 'local'`,
  ).run({
    id: pool.id,
    name: pool.name,
    description: pool.description,
    subnet_id: pool.subnet_id,
    protocol: pool.protocol,
    lb_method: pool.lb_method,
    admin_state_up: pool.admin_state_up ? 1 : 0,
    status: pool.status,
    status_description: pool.status_description,
    operating_status: pool.operating_status,
  })
  db.prepare('INSERT OR IGNORE INTO pool_stats (pool_id) VALUES (?)').run(pool.id)
  const previousMonitors = monitorsOf(db, pool.id)

  for (const monitor of graph.monitors) {
    const exists = db.prepare('SELECT 1 FROM monitors WHERE id = ?').get(monitor.id) !== undefined
    if (exists) {
      updateMonitorRow(db, monitor.id, monitorSettings(monitor))
    } else {
      insertMonitor(db, {...monitor, name: null})
    }
  }
  // Members and associations are replaced as a whole: their order is the controller's.
  const memberIds = graph.members.map((member) => member.id)
  db.prepare(`DELETE FROM members WHERE pool_id = ? OR id IN (SELECT value FROM json_each(?))`).run(pool.id, JSON.stringify(memberIds))
  for (const member of graph.members) insertMember(db, member)
  db.prepare('DELETE FROM associations WHERE pool_id = ?').run(pool.id)
  for (const association of [...graph.associations].sort((a, b) => a.position - b.position)) {
    db.prepare('INSERT INTO associations (pool_id, monitor_id, status, status_description) VALUES (?, ?, ?, ?)').run(
      pool.id,
      association.monitor_id,
      association.status,
      association.status_description,
    )
  }
  db.prepare('DELETE FROM vips WHERE pool_id = ? OR id = ?').run(pool.id, graph.vip?.id ?? '')
  if (graph.vip) {
    const clash = db.prepare('SELECT id FROM vips WHERE address = ?').pluck().get(graph.vip.address) as string | undefined
    if (clash) {
      throw new ConflictError('address_in_use', `this agent still holds VIP ${clash} on ${graph.vip.address}; run \`lbaas agent list\` to let it clean up`)
    }
    for (const cert of graph.certs) upsertCertificateBundle(db, cert)
    insertVip(db, graph.vip)
  }
  deleteUnusedMonitors(db, previousMonitors)
  deleteUnusedAgentCertificates(db)
}

/** The agent holds this pool (and its counters). */
export function isHosted(db: Db, poolId: string): boolean {
  return db.prepare('SELECT 1 FROM pools WHERE id = ?').get(poolId) !== undefined
}

/** Forgets a pool the agent no longer hosts (its VIP, members and associations too). */
export function deleteHostedPool(db: Db, poolId: string): void {
  const previousMonitors = monitorsOf(db, poolId)
  db.prepare('DELETE FROM vips WHERE pool_id = ?').run(poolId)
  db.prepare('DELETE FROM pools WHERE id = ?').run(poolId)
  deleteUnusedMonitors(db, previousMonitors)
  deleteUnusedAgentCertificates(db)
}

function monitorsOf(db: Db, poolId: string): string[] {
  return db.prepare('SELECT monitor_id FROM associations WHERE pool_id = ?').pluck().all(poolId) as string[]
}

/** Monitors that came with a hosted pool and serve no pool any more (the operator's own are left alone). */
function deleteUnusedMonitors(db: Db, candidates: readonly string[]): void {
  const remove = db.prepare('DELETE FROM monitors WHERE id = ? AND id NOT IN (SELECT monitor_id FROM associations)')
  for (const monitorId of candidates) remove.run(monitorId)
}
