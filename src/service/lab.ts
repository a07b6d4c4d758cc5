/**
 * `lbaas lab` (SPEC §7): throw-away backend hosts on a managed subnet, each a namespace
 * running a small HTTP(S) server that answers with its name and has `/healthz`. Nothing
 * leaves the host: the lab subnet's bridge has no uplink, no NAT and no route out.
 */

import {existsSync} from 'node:fs'

import {ConflictError, NotFoundError, ValidationError} from '../domain/errors.js'
import {fromBigInt, toBigInt} from '../domain/ip.js'
import type {Subnet} from '../domain/types.js'
import {integer} from '../domain/validation.js'
import {labBackendDir, labBackendNames} from '../host/names.js'
import {subnetPlugSpec} from '../host/plug.js'
import {backendStatus, ensureLabCertificate, setBackendHealth, startBackend, stopBackend} from '../lab/lab-host.js'
import {deleteLabBackends, getLabBackend, insertLabBackend, listLabBackends, type LabBackendRow} from '../store/lab.js'
import {findSubnetsByName, getSubnet, subnetUsers} from '../store/subnets.js'
import type {AppContext} from './context.js'
import {createSubnet, deleteSubnet, deleteUsersFirst, subnetNetwork} from './subnets.js'

export const LAB_DEFAULTS = {subnet: 'lab', cidr: '198.18.0.0/24', backends: 3, port: 8000}
/** Backend n gets host address n + this offset: 198.18.0.11, .12, … */
const ADDRESS_OFFSET = 10

export interface LabBackend {
  name: string
  subnet: string
  address: string
  port: number
  tls: boolean
  namespace: string
  running: boolean
  healthy: boolean
  pid: number | null
}

export interface LabUpInput {
  backends?: unknown
  subnet?: string
  cidr?: string
  port?: unknown
  tls?: boolean
}

function labDir(ctx: AppContext, subnetId: string): string {
  return `${ctx.runDir}/lab/${subnetId}`
}

/**
 * A backend's control files live under its namespace's name (`<run>/lab/<namespace>`), where
 * sync also looks when it removes a lab namespace no row names any more. A backend started by
 * an earlier version keeps its `<run>/lab/<subnet id>/<position>` until it is stopped.
 */
function controlDir(ctx: AppContext, row: LabBackendRow): string {
  const earlier = `${labDir(ctx, row.subnet_id)}/${row.position}`
  return existsSync(earlier) ? earlier : labBackendDir(ctx.runDir, row.subnet_id, row.position)
}

function describeBackend(ctx: AppContext, row: LabBackendRow, subnet: Subnet): LabBackend {
  const names = labBackendNames(subnet.id, row.position)
  const status = backendStatus({namespace: names.namespace, hostLink: names.hostLink, controlDir: controlDir(ctx, row)})
  return {
    name: row.name,
    subnet: subnet.name,
    address: row.address,
    port: row.port,
    tls: row.tls,
    namespace: names.namespace,
    running: status.running && status.namespaceExists,
    healthy: status.healthy,
    pid: status.pid ?? null,
  }
}

function tlsFiles(ctx: AppContext, subnetId: string): Promise<{certFile: string; keyFile: string}> {
  return ensureLabCertificate(`${labDir(ctx, subnetId)}/tls`)
}

async function startOne(ctx: AppContext, row: LabBackendRow, subnet: Subnet): Promise<void> {
  const names = labBackendNames(subnet.id, row.position)
  await startBackend({
    ...subnetPlugSpec(ctx.runDir, subnet, {namespace: names.namespace, hostLink: names.hostLink, address: row.address}),
    name: row.name,
    port: row.port,
    controlDir: controlDir(ctx, row),
    tls: row.tls ? await tlsFiles(ctx, subnet.id) : undefined,
  })
}

async function labSubnet(ctx: AppContext, name: string, cidr: string): Promise<Subnet> {
  const [existing] = findSubnetsByName(ctx.store.db, name)
  if (existing) {
    if (!existing.managed) {
      throw new ConflictError(
        'not_a_lab',
        `subnet ${name} uses an existing bridge; a lab needs a subnet lbaas manages`,
        '`lbaas lab up --subnet NAME --cidr CIDR` makes a lab of its own',
      )
    }
    return existing
  }
  return ctx.notify.step(`create subnet ${name} (${cidr})`, () => createSubnet(ctx, {name, cidr}))
}

/** Makes backends 1…N exist and run (idempotent: running ones are kept, dead ones restarted). */
export async function labUp(ctx: AppContext, input: LabUpInput = {}): Promise<LabBackend[]> {
  const count = input.backends === undefined ? LAB_DEFAULTS.backends : integer('backends', input.backends, 1, 50)
  const port = input.port === undefined ? LAB_DEFAULTS.port : integer('port', input.port, 1, 65_535)
  const subnetName = input.subnet ?? LAB_DEFAULTS.subnet
  const network = subnetNetwork(input.cidr ?? LAB_DEFAULTS.cidr)
  if (network.family !== 4) throw new ValidationError('cidr', 'lab backends use IPv4 subnets')
  const subnet = await labSubnet(ctx, subnetName, input.cidr ?? LAB_DEFAULTS.cidr)
  const base = toBigInt(subnetNetwork(subnet.cidr).address)
  const {db} = ctx.store
  for (let position = 1; position <= count; position++) {
    const name = `${subnet.name}-${position}`
    const row = getLabBackend(db, name) ?? {
      name,
      subnet_id: subnet.id,
      position,
      address: fromBigInt(base + BigInt(ADDRESS_OFFSET + position), 4),
      port,
      tls: Boolean(input.tls),
    }
    if (!getLabBackend(db, name)) ctx.store.write(() => insertLabBackend(db, row))
    await ctx.notify.step(`start backend ${name} at ${row.address}:${row.port}`, () => startOne(ctx, row, subnet))
  }
  return labStatus(ctx, subnet.name)
}

export function labStatus(ctx: AppContext, subnetName?: string): LabBackend[] {
  const {db} = ctx.store
  return listLabBackends(db).flatMap((row) => {
    const subnet = getSubnet(db, row.subnet_id)
    return subnet && (subnetName === undefined || subnet.name === subnetName) ? [describeBackend(ctx, row, subnet)] : []
  })
}

/** Stops every backend of the lab and deletes its subnet; refused while pools or VIPs use it. */
export async function labDown(ctx: AppContext, subnetName = LAB_DEFAULTS.subnet): Promise<LabBackend[]> {
  const {db} = ctx.store
  const [subnet] = findSubnetsByName(db, subnetName)
  if (!subnet) throw new NotFoundError('subnet', subnetName, 'try `lbaas lab status`')
  const users = subnetUsers(db, subnet.id)
  if (users.pools.length > 0 || users.vips.length > 0) {
    throw new ConflictError(
      'in_use',
      `lab subnet ${subnetName} is still used by pools ${users.pools.join(', ')}`,
      deleteUsersFirst(users),
    )
  }
  const backends = labStatus(ctx, subnetName)
  for (const row of listLabBackends(db, subnet.id)) {
    const names = labBackendNames(subnet.id, row.position)
    await ctx.notify.step(`stop backend ${row.name}`, () =>
      stopBackend({namespace: names.namespace, hostLink: names.hostLink, controlDir: controlDir(ctx, row)}),
    )
  }
  ctx.store.write(() => deleteLabBackends(db, subnet.id))
  await ctx.notify.step(`delete subnet ${subnetName}`, () => deleteSubnet(ctx, subnet.id))
  return backends.map((backend) => ({...backend, running: false}))
}

function findBackend(ctx: AppContext, name: string): LabBackendRow {
  const row = getLabBackend(ctx.store.db, name)
  if (!row) throw new NotFoundError('lab backend', name, 'try `lbaas lab status`')
  return row
}

/** Makes a backend fail (`/healthz` answers 500) or pass its health check. */
export function labSetHealth(ctx: AppContext, name: string, healthy: boolean): LabBackend {
  const row = findBackend(ctx, name)
  setBackendHealth(controlDir(ctx, row), healthy)
  return labStatus(ctx).find((backend) => backend.name === name)!
}

/** Stops one backend's server and unplugs it, as if the host went down. */
export async function labStopBackend(ctx: AppContext, name: string): Promise<LabBackend> {
  const row = findBackend(ctx, name)
  const names = labBackendNames(row.subnet_id, row.position)
  await stopBackend({namespace: names.namespace, hostLink: names.hostLink, controlDir: controlDir(ctx, row)})
  return labStatus(ctx).find((backend) => backend.name === name)!
}

/** Starts a stopped backend again (the same as `lab up` for that one backend). */
export async function labStartBackend(ctx: AppContext, name: string): Promise<LabBackend> {
  const row = findBackend(ctx, name)
  await startOne(ctx, row, getSubnet(ctx.store.db, row.subnet_id)!)
  return labStatus(ctx).find((backend) => backend.name === name)!
}
