import {randomUUID} from 'node:crypto'

import {ConflictError, ValidationError} from '../domain/errors.js'
import {firstFreeHost, isUsableHost, networkContains, type Network} from '../domain/ip.js'
import type {Subnet} from '../domain/types.js'
import {bridgeName, ipAddress, subnetCidr, subnetName} from '../domain/validation.js'
import {managedBridgeFor} from '../host/names.js'
import {deleteSubnetRow, findSubnetsByName, insertSubnet, listSubnets, subnetUsers} from '../store/subnets.js'
import type {AppContext} from './context.js'
import {resolveSubnet} from './resolve.js'

export interface SubnetInput {
  name: unknown
  cidr: unknown
  gateway_ip?: unknown
  bridge?: unknown
}

/** Parses the CIDR of a subnet: IPv4 up to /30, IPv6 up to /126 (room for a gateway and a VIP). */
export function subnetNetwork(cidr: unknown): Network {
  return subnetCidr(cidr)
}

function overlaps(a: Network, b: Network): boolean {
  const [wider, narrower] = a.prefix <= b.prefix ? [a, b] : [b, a]
  return networkContains(wider, narrower.address)
}

export async function createSubnet(ctx: AppContext, input: SubnetInput): Promise<Subnet> {
  const name = subnetName(input.name)
  const network = subnetNetwork(input.cidr)
  let gateway: string
  if (input.gateway_ip === undefined) {
    gateway = firstFreeHost(network, new Set())!
  } else {
    gateway = ipAddress('gateway_ip', input.gateway_ip).address
    if (!isUsableHost(network, gateway)) {
      throw new ValidationError('gateway_ip', `gateway ${gateway} is not a host address inside ${network.cidr}`)
    }
  }
  const id = randomUUID()
  const managed = input.bridge === undefined
  const subnet: Subnet = {
    id,
    name,
    cidr: network.cidr,
    gateway_ip: gateway,
    bridge: managed ? managedBridgeFor(id) : bridgeName(input.bridge),
    managed,
  }
  const {db} = ctx.store
  ctx.store.write(() => {
    if (findSubnetsByName(db, name).length > 0) {
      throw new ConflictError('duplicate_name', `a subnet named ${name} already exists`, 'try `lbaas subnet list`')
    }
    const clash = listSubnets(db).find((other) => overlaps(subnetNetwork(other.cidr), network))
    if (clash) {
      throw new ConflictError(
        'overlapping_cidr',
        `${network.cidr} overlaps subnet ${clash.name} (${clash.cidr}); every subnet shares this host's routing table`,
        'choose a network that overlaps none of `lbaas subnet list`',
      )
    }
    insertSubnet(db, subnet)
  })
  try {
    await ctx.localExecutor.ensureSubnet(subnet)
  } catch (error) {
    // Nothing half-made: the row goes, and the executor removed what it created.
    ctx.store.write(() => deleteSubnetRow(db, id))
    throw error
  }
  return subnet
}

export function listAllSubnets(ctx: AppContext): Subnet[] {
  return listSubnets(ctx.store.db)
}

export function showSubnet(ctx: AppContext, ref: string): Subnet {
  return resolveSubnet(ctx.store.db, ref)
}

/** The commands that free a subnet: its VIPs go first, then its pools (ids, so they paste as is). */
export function deleteUsersFirst(users: {pools: readonly string[]; vips: readonly string[]}): string {
  const commands = [...users.vips.map((id) => `lbaas vip delete ${id} --yes`), ...users.pools.map((id) => `lbaas pool delete ${id} --yes`)]
  const shown = commands.slice(0, 4).map((command) => `\`${command}\``)
  return `delete them first: ${shown.join(', then ')}${commands.length > shown.length ? ', …' : ''}`
}

export async function deleteSubnet(ctx: AppContext, ref: string): Promise<Subnet> {
  const {db} = ctx.store
  const subnet = ctx.store.write(() => {
    const found = resolveSubnet(db, ref)
    const users = subnetUsers(db, found.id)
    if (users.pools.length > 0 || users.vips.length > 0) {
      const what = [
        users.pools.length > 0 ? `pools ${users.pools.join(', ')}` : '',
        users.vips.length > 0 ? `VIPs ${users.vips.join(', ')}` : '',
      ]
        .filter(Boolean)
        .join(' and ')
      throw new ConflictError('in_use', `subnet ${found.name} is in use by ${what}`, deleteUsersFirst(users))
    }
    deleteSubnetRow(db, found.id)
    return found
  })
  await ctx.localExecutor.removeSubnet(subnet)
  return subnet
}
