/**
 * What guided creation offers: existing subnets and pools by name (the id where a name is
 * ambiguous), and a free network for a new subnet. An empty list is an error with the
 * command that makes the first one, before any question is asked in vain.
 */
import {EXIT, LbaasError} from '../domain/errors.js'
import {networkContains} from '../domain/ip.js'
import type {Pool, Subnet} from '../domain/types.js'
import type {AppContext} from '../service/context.js'
import {listAllPools} from '../service/pools.js'
import {listAllSubnets, subnetNetwork} from '../service/subnets.js'
import type {Choice} from './prompts.js'

/** The name when it is unique, otherwise the id: what resolves to exactly this object. */
function reference<T extends {id: string; name: string}>(item: T, all: readonly T[]): string {
  return all.filter((other) => other.name === item.name).length > 1 ? item.id : item.name
}

export function subnetChoices(ctx: AppContext): Choice[] {
  const subnets = listAllSubnets(ctx)
  if (subnets.length === 0) {
    throw new LbaasError('not_found', EXIT.notFound, 'there is no subnet yet', 'create one first: `lbaas subnet create NAME --cidr CIDR` (or `lbaas lab up`)')
  }
  return subnets.map((subnet: Subnet) => ({
    name: `${reference(subnet, subnets)}  ${subnet.cidr}`,
    value: reference(subnet, subnets),
    short: reference(subnet, subnets),
    description: `bridge ${subnet.bridge}, gateway ${subnet.gateway_ip}`,
  }))
}

/** How a subnet is offered (its name, or its id when the name is ambiguous). */
export function subnetReference(ctx: AppContext, subnetId: string): string | undefined {
  const subnets = listAllSubnets(ctx)
  const subnet = subnets.find((candidate) => candidate.id === subnetId)
  return subnet && reference(subnet, subnets)
}

export function poolChoices(ctx: AppContext, options: {withoutVip?: boolean} = {}): Choice[] {
  const all = listAllPools(ctx)
  const pools = options.withoutVip ? all.filter((pool) => !pool.vip_id) : all
  if (pools.length === 0) {
    throw new LbaasError(
      'not_found',
      EXIT.notFound,
      options.withoutVip && all.length > 0 ? 'every pool already has a VIP' : 'there is no pool yet',
      'create one first: `lbaas pool create`',
    )
  }
  return pools.map((pool: Pool) => ({
    name: `${reference(pool, all)}  ${pool.protocol} ${pool.lb_method}, ${pool.members.length} member${pool.members.length === 1 ? '' : 's'}`,
    value: reference(pool, all),
    short: reference(pool, all),
    description: pool.description || pool.id,
  }))
}

/** The first 198.18.x.0/24 (the benchmarking range) that overlaps no subnet of the state file. */
export function freeNetworkSuggestion(ctx: AppContext): string | undefined {
  const taken = listAllSubnets(ctx).map((subnet) => subnetNetwork(subnet.cidr))
  for (let third = 0; third < 256; third++) {
    const candidate = subnetNetwork(`198.18.${third}.0/24`)
    const clash = taken.some((network) => networkContains(network, candidate.address) || networkContains(candidate, network.address))
    if (!clash) return candidate.cidr
  }
  return undefined
}
