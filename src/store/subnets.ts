import type {Subnet} from '../domain/types.js'
import type {Db} from './db.js'

interface SubnetRow {
  id: string
  name: string
  cidr: string
  gateway_ip: string
  bridge: string
  managed: number
}

// The row's stack label (SPEC §8) is not a field of the subnet: see store/stacks.ts.
const toSubnet = ({stack: _stack, ...row}: SubnetRow & {stack?: unknown}): Subnet => ({...row, managed: row.managed === 1})

export function insertSubnet(db: Db, subnet: Subnet): void {
  db.prepare(
    'INSERT INTO subnets (id, name, cidr, gateway_ip, bridge, managed) VALUES (@id, @name, @cidr, @gateway_ip, @bridge, @managed)',
  ).run({...subnet, managed: subnet.managed ? 1 : 0})
}

export function getSubnet(db: Db, id: string): Subnet | undefined {
  const row = db.prepare('SELECT * FROM subnets WHERE id = ?').get(id) as SubnetRow | undefined
  return row && toSubnet(row)
}

export function findSubnetsByName(db: Db, name: string): Subnet[] {
  return (db.prepare('SELECT * FROM subnets WHERE name = ?').all(name) as SubnetRow[]).map(toSubnet)
}

export function listSubnets(db: Db): Subnet[] {
  return (db.prepare('SELECT * FROM subnets ORDER BY rowid').all() as SubnetRow[]).map(toSubnet)
}

export function deleteSubnetRow(db: Db, id: string): void {
  db.prepare('DELETE FROM subnets WHERE id = ?').run(id)
}

/** Names of what still uses the subnet (pools, VIPs), for the in-use conflict message. */
export function subnetUsers(db: Db, id: string): {pools: string[]; vips: string[]} {
  const pools = db.prepare('SELECT id FROM pools WHERE subnet_id = ?').pluck().all(id) as string[]
  const vips = db.prepare('SELECT id FROM vips WHERE subnet_id = ?').pluck().all(id) as string[]
  return {pools, vips}
}
