/**
 * `lbaas plan`, `apply` (SPEC §8.2): the file is parsed and validated whole, planned
 * against the state (src/declarative/plan.ts, pure), then every row change is committed
 * in one transaction and the affected pools converge in parallel, each under its lock,
 * through the same deploy path as the commands (applyPool: one `haproxy -c` and at most
 * one reload per pool, or the runtime API alone).
 */
import {randomUUID} from 'node:crypto'
import {readFileSync, statSync} from 'node:fs'
import {availableParallelism} from 'node:os'
import {dirname, resolve} from 'node:path'

import {ApplyFileError, EXIT, LbaasError} from '../domain/errors.js'
import {firstFreeHost, type Network} from '../domain/ip.js'
import type {Member, ProvisioningStatus, Vip} from '../domain/types.js'
import {stackName, subnetCidr} from '../domain/validation.js'
import type {DesiredFile} from '../declarative/file.js'
import {exportFile} from '../declarative/export.js'
import {MAX_FILE_BYTES, parseApplyText} from '../declarative/parse.js'
import {planApply, type Action, type Plan} from '../declarative/plan.js'
import type {StateSnapshot} from '../declarative/state.js'
import {APPLY_FILE_SCHEMA} from '../declarative/schema.js'
import {validateApplyFile} from '../declarative/validate.js'
import {managedBridgeFor} from '../host/names.js'
import type {Db} from '../store/db.js'
import {listMembers, deleteMemberRow, insertMember, setMemberStatus, updateMemberRow} from '../store/members.js'
import {deleteAssociationRow, deleteMonitorRow, insertAssociation, insertMonitor, listAssociations, listMonitors, updateMonitorRow} from '../store/monitors.js'
import {deletePoolRow, insertPool, listPools, setPoolStatus, updatePoolRow} from '../store/pools.js'
import {setStackLabel, stackLabels, type LabelledTable} from '../store/stacks.js'
import {deleteSubnetRow, getSubnet, insertSubnet, listSubnets, subnetUsers} from '../store/subnets.js'
import {insertVip, listVips, setVipStatus, updateVipRow} from '../store/vips.js'
import {certificateKeyDigests, deleteCertificateRow, getCertificate, insertCertificate, listCertificates} from '../store/certificates.js'
import {vipsUsingCert} from '../store/vips.js'
import type {CheckedBundle} from '../tls/certificate.js'
import {settleWithConcurrency} from '../util/concurrency.js'
import {crashPoint} from '../util/crash-point.js'
import {chooseAgent, undeployFrom} from './agents.js'
import {rotateCertificate} from './certificates.js'
import {checkFileCerts} from './declarative-certs.js'
import {applyPool, describeFailure} from './apply.js'
import type {AppContext} from './context.js'
import {resolvePool} from './resolve.js'

export interface PlanRequest {
  text: string
  prune: boolean
  /** Where relative `cert_file`/`key_file`/`chain_file` paths start: the file's directory (the cwd for `-f -`). */
  baseDir?: string
}

/** The directory relative certificate paths of `-f PATH` start from. */
export function applySourceDir(path: string): string {
  return path === '-' ? process.cwd() : dirname(resolve(path))
}

interface Desired {
  file: DesiredFile
  /** Checked certificate material by name (entries with files or inline PEM). */
  bundles: Map<string, CheckedBundle>
}

export interface ApplyRequest extends PlanRequest {
  /** Pools converging at once; default 2 × cores. */
  parallel?: number
  /** Asked before deleting or replugging a deployed VIP; false cancels. Absent: no question. */
  confirm?: (destructive: readonly string[]) => Promise<boolean>
}

/** What `--json` prints (SPEC §8.2). */
export interface ChangeReport {
  changed: boolean
  actions: {kind: string; name: string; op: string; fields: Action['fields']; host: string | null}[]
  errors: {kind: string; name: string; message: string}[]
}

export interface PlanResult extends ChangeReport {
  destructive: string[]
}

export const defaultParallelism = (): number => 2 * availableParallelism()

/** The file as a DesiredFile with its certificates read and checked, or ApplyFileError with every problem. */
export function readDesired(ctx: AppContext, text: string, baseDir = process.cwd()): Desired {
  const parsed = parseApplyText(text)
  if (parsed.problems.length > 0) throw new ApplyFileError(parsed.problems)
  const {file, problems} = validateApplyFile(parsed.value, ctx.safeConnectionLimit())
  if (!file) throw new ApplyFileError(problems)
  const certs = checkFileCerts(file, baseDir)
  if (certs.problems.length > 0) throw new ApplyFileError(certs.problems)
  return {file, bundles: certs.bundles}
}

export function loadSnapshot(db: Db): StateSnapshot {
  const label = <T extends {id: string}>(table: LabelledTable, rows: T[]) => {
    const labels = stackLabels(db, table)
    return rows.map((row) => ({...row, stack: labels.get(row.id) ?? null}))
  }
  return {
    subnets: label('subnets', listSubnets(db)),
    monitors: label('monitors', listMonitors(db)),
    pools: label('pools', listPools(db)),
    members: listMembers(db),
    associations: listAssociations(db),
    vips: label('vips', listVips(db)),
    certs: (() => {
      const digests = certificateKeyDigests(db)
      return label('certificates', listCertificates(db)).map((cert) => ({...cert, key_sha256: digests.get(cert.id) ?? ''}))
    })(),
  }
}

function checked(plan: Plan): Plan {
  if (plan.problems.length > 0) throw new ApplyFileError([...plan.problems, ...plan.conflicts])
  if (plan.conflicts.length > 0) throw new ApplyFileError(plan.conflicts, true)
  return plan
}

function reportOf(plan: Plan, errors: ChangeReport['errors'] = []): ChangeReport {
  return {
    changed: plan.changed,
    actions: plan.actions.map(({kind, name, op, fields, host}) => ({kind, name, op, fields, host})),
    errors,
  }
}

export function planFile(ctx: AppContext, request: PlanRequest): PlanResult {
  const {file: desired} = readDesired(ctx, request.text, request.baseDir)
  const plan = checked(ctx.store.read(() => planApply(loadSnapshot(ctx.store.db), desired, {prune: request.prune})))
  return {...reportOf(plan), destructive: plan.destructive}
}

export async function applyFile(ctx: AppContext, request: ApplyRequest): Promise<ChangeReport> {
  const {file: desired, bundles} = readDesired(ctx, request.text, request.baseDir)
  const {db} = ctx.store
  const preview = checked(ctx.store.read(() => planApply(loadSnapshot(db), desired, {prune: request.prune})))
  if (!preview.changed) return reportOf(preview)
  if (preview.destructive.length > 0 && request.confirm && !(await request.confirm(preview.destructive))) throw new LbaasError('cancelled', EXIT.usage, 'cancelled: nothing was changed')
  const agents = await chooseAgents(ctx, preview)
  // Planned again inside the transaction: what is written is planned from what is there.
  const {plan, work} = ctx.store.write(() => {
    const fresh = checked(planApply(loadSnapshot(db), desired, {prune: request.prune}))
    return {plan: fresh, work: writeRows(db, fresh, agents, bundles)}
  })
  crashPoint('apply-after-commit')
  const errors = await rotateCerts(ctx, plan, bundles)
  errors.push(...(await converge(ctx, plan, work, request.parallel ?? defaultParallelism())))
  errors.push(...pruneCerts(ctx, plan))
  for (const action of plan.actions) {
    if (action.kind !== 'cert' || (action.op !== 'create' && action.op !== 'update')) continue
    for (const warning of bundles.get(action.name)?.warnings ?? []) ctx.notify.warn(`certificate ${action.name}: ${warning}`)
  }
  return reportOf(plan, errors)
}

/** New material for existing certificates: the rotation path of `cert update` (runtime API, no reload). */
async function rotateCerts(ctx: AppContext, plan: Plan, bundles: Map<string, CheckedBundle>): Promise<ChangeReport['errors']> {
  const errors: ChangeReport['errors'] = []
  for (const action of plan.actions) {
    if (action.kind !== 'cert' || action.op === 'create' || action.op === 'delete' || Object.keys(action.fields).length === 0) continue
    const current = ctx.store.read(() => getCertificate(ctx.store.db, action.id!))
    if (!current) continue
    try {
      await rotateCertificate(ctx, current, bundles.get(action.name)!)
    } catch (error) {
      errors.push({kind: 'cert', name: action.name, message: describeFailure(error)})
    }
  }
  return errors
}

/** Pruned certificates go once no VIP serves them (a pruned VIP is gone after its pool converged). */
function pruneCerts(ctx: AppContext, plan: Plan): ChangeReport['errors'] {
  const errors: ChangeReport['errors'] = []
  for (const action of plan.actions) {
    if (action.kind !== 'cert' || action.op !== 'delete') continue
    const deleted = ctx.store.write(() => {
      if (vipsUsingCert(ctx.store.db, action.id!).length > 0) return false
      deleteCertificateRow(ctx.store.db, action.id!)
      return true
    })
    if (!deleted) errors.push({kind: 'cert', name: action.name, message: 'a VIP still serves it; apply again once the VIP is gone'})
  }
  return errors
}

/** Agents of new pools and of moves (`auto` and agent names ask the job servers). */
async function chooseAgents(ctx: AppContext, plan: Plan): Promise<Map<string, string>> {
  const chosen = new Map<string, string>()
  for (const action of plan.actions) {
    if (action.kind !== 'pool' || !('agent' in action.fields)) continue
    const wanted = action.fields.agent.to as string
    if (wanted !== 'local') chosen.set(action.name, await chooseAgent(ctx, wanted))
  }
  return chosen
}

/** One pool's work after the rows are written. */
interface PoolWork {
  poolId: string
  name: string
  host: NonNullable<Action['host']>
  /** Members whose weight or admin state alone changed (the runtime API's). */
  runtimeMemberIds: string[]
  touchedMemberIds: string[]
  vipId?: string
  /** Where the pool ran before a move between agents. */
  previousAgent?: string
  /** Pruned: the row goes once the host no longer serves it. */
  deleteAfter: boolean
}

interface Work {
  pools: PoolWork[]
  newSubnetIds: string[]
  deletedSubnetIds: string[]
}

/** Every row change of the plan, inside the caller's transaction. Returns what the host must do. */
function writeRows(db: Db, plan: Plan, agents: Map<string, string>, bundles: Map<string, CheckedBundle>): Work {
  const stack = plan.stack
  const resolved = plan.resolved
  for (const action of plan.actions.filter((candidate) => candidate.kind === 'cert')) {
    if (action.op === 'create') {
      const checked = bundles.get(action.name)!
      const id = randomUUID()
      insertCertificate(db, {id, name: action.name, ...checked.facts}, checked.material)
      setStackLabel(db, 'certificates', id, stack)
    } else if (action.op !== 'delete') setStackLabel(db, 'certificates', action.id!, stack)
  }
  const certIds = new Map(listCertificates(db).map((cert) => [cert.name, cert.id]))
  const certId = (name: string | null) => (name === null ? null : certIds.get(name)!)
  const subnetIds = new Map(listSubnets(db).map((subnet) => [subnet.name, subnet.id]))
  const monitorIds = new Map(listMonitors(db).filter((monitor) => monitor.name !== null).map((monitor) => [monitor.name!, monitor.id]))
  const poolIds = new Map<string, string>()
  const work: Work = {pools: [], newSubnetIds: [], deletedSubnetIds: []}
  const byKind = (kind: Action['kind']) => plan.actions.filter((action) => action.kind === kind)

  for (const action of byKind('subnet')) {
    if (action.op === 'create') {
      const desired = resolved.subnets.find((subnet) => subnet.name === action.name)!
      const id = randomUUID()
      const network: Network = subnetCidr(desired.cidr)
      insertSubnet(db, {
        id,
        name: desired.name,
        cidr: network.cidr,
        gateway_ip: desired.gateway_ip ?? firstFreeHost(network, new Set())!,
        bridge: desired.bridge ?? managedBridgeFor(id),
        managed: desired.bridge === undefined,
      })
      setStackLabel(db, 'subnets', id, stack)
      subnetIds.set(desired.name, id)
      work.newSubnetIds.push(id)
    } else if (action.op === 'adopt') setStackLabel(db, 'subnets', action.id!, stack)
    else if (action.op === 'delete') work.deletedSubnetIds.push(action.id!)
  }

  for (const action of byKind('monitor')) {
    const desired = resolved.monitors.find((monitor) => monitor.name === action.name)
    if (action.op === 'create' && desired) {
      const id = randomUUID()
      insertMonitor(db, {id, ...desired})
      setStackLabel(db, 'monitors', id, stack)
      monitorIds.set(desired.name, id)
    } else if (action.op === 'update' || action.op === 'adopt') {
      updateMonitorRow(db, action.id!, Object.fromEntries(Object.entries(action.fields).map(([field, change]) => [field, change.to])))
      setStackLabel(db, 'monitors', action.id!, stack)
    }
  }

  for (const action of byKind('pool')) {
    const desired = resolved.pools.find((pool) => pool.name === action.name)
    const deployedAfter = desired?.vip != null
    if (action.op === 'create' && desired) {
      const id = randomUUID()
      insertPool(db, {
        id,
        name: desired.name,
        description: desired.description,
        subnet_id: subnetIds.get(desired.subnet)!,
        protocol: desired.protocol,
        lb_method: desired.lb_method,
        admin_state_up: desired.admin_state_up,
        status: deployedAfter ? 'PENDING_CREATE' : 'ACTIVE',
        status_description: null,
        agent: agents.get(desired.name) ?? 'local',
      })
      setStackLabel(db, 'pools', id, stack)
      poolIds.set(desired.name, id)
    } else if (action.op === 'delete') {
      poolIds.set(action.name, action.id!)
    } else {
      poolIds.set(action.name, action.id!)
      if (action.op === 'adopt') setStackLabel(db, 'pools', action.id!, stack)
      const {monitors: _monitors, agent, ...rowFields} = action.fields
      updatePoolRow(db, action.id!, {
        ...Object.fromEntries(Object.entries(rowFields).map(([field, change]) => [field, change.to])),
        agent: agent ? agents.get(action.name) ?? (agent.to as string) : undefined,
      })
    }
  }

  // Members and VIPs may move between pools: every pool id is known from here on.
  const poolWork = new Map<string, PoolWork>()
  const workFor = (action: Action): PoolWork => {
    const id = poolIds.get(action.name)!
    let entry = poolWork.get(id)
    if (!entry) {
      entry = {poolId: id, name: action.name, host: action.host ?? 'none', runtimeMemberIds: [], touchedMemberIds: [], deleteAfter: false}
      // A created pool has no previous agent (`from` is null): there is nothing to undeploy.
      const previousAgent = action.fields.agent?.from
      if (typeof previousAgent === 'string') entry.previousAgent = previousAgent
      poolWork.set(id, entry)
    }
    return entry
  }
  for (const action of byKind('pool')) workFor(action)

  for (const action of byKind('pool')) {
    if (action.op === 'delete') {
      const entry = workFor(action)
      if (action.host === 'undeploy') {
        // Members and associations go now; the VIP (PENDING_DELETE) and the row once undeployed.
        for (const member of listMembers(db, action.id)) deleteMemberRow(db, member.id)
        for (const association of listAssociations(db, {poolId: action.id})) deleteAssociationRow(db, action.id!, association.monitor_id)
        setPoolStatus(db, action.id!, 'PENDING_DELETE')
        entry.deleteAfter = true
      } else deletePoolRow(db, action.id!)
      continue
    }
    const desired = resolved.pools.find((pool) => pool.name === action.name)
    if (desired && (action.op === 'create' || 'monitors' in action.fields)) {
      const poolId = poolIds.get(action.name)!
      for (const association of listAssociations(db, {poolId})) deleteAssociationRow(db, poolId, association.monitor_id)
      for (const name of desired.monitors) insertAssociation(db, poolId, monitorIds.get(name)!, desired.vip ? 'PENDING_CREATE' : 'ACTIVE')
    }
    if (action.host !== 'none' && action.op !== 'create') setPoolStatus(db, action.id!, 'PENDING_UPDATE')
  }

  const deployedAfter = (poolName: string) => resolved.pools.find((pool) => pool.name === poolName)?.vip != null
  for (const action of byKind('member')) {
    const poolName = action.pool!
    const poolId = poolIds.get(poolName)!
    const entry = poolWork.get(poolId)
    if (action.op === 'delete') {
      if (entry?.deleteAfter) continue
      deleteMemberRow(db, action.id!)
      continue
    }
    const desired = resolved.pools.find((pool) => pool.name === poolName)!.members.find((member) => memberKey(member) === memberKey(memberOfName(action.name)))!
    const status: ProvisioningStatus = deployedAfter(poolName) ? (action.op === 'create' ? 'PENDING_CREATE' : 'PENDING_UPDATE') : 'ACTIVE'
    if (action.op === 'create') {
      const member: Member = {id: randomUUID(), pool_id: poolId, ...desired, status, status_description: null, operating_status: 'OFFLINE'}
      insertMember(db, member)
      entry?.touchedMemberIds.push(member.id)
    } else if (action.op === 'update') {
      updateMemberRow(db, action.id!, {weight: desired.weight, admin_state_up: desired.admin_state_up, pool_id: 'pool' in action.fields ? poolId : undefined})
      setMemberStatus(db, action.id!, status)
      entry?.touchedMemberIds.push(action.id!)
      if (!('pool' in action.fields)) entry?.runtimeMemberIds.push(action.id!)
    }
  }

  for (const action of byKind('vip')) {
    const poolName = action.pool!
    const poolId = poolIds.get(poolName)!
    const entry = poolWork.get(poolId)
    if (action.op === 'delete') {
      setVipStatus(db, action.id!, 'PENDING_DELETE')
      if (entry) entry.vipId = action.id
      continue
    }
    const desired = resolved.pools.find((pool) => pool.name === poolName)!.vip!
    const subnetId = subnetIds.get(desired.subnet)!
    if (action.op === 'create') {
      const vip: Vip = {
        id: randomUUID(),
        name: desired.name,
        description: desired.description,
        pool_id: poolId,
        subnet_id: subnetId,
        address: desired.address,
        protocol: desired.protocol,
        protocol_port: desired.protocol_port,
        connection_limit: desired.connection_limit,
        session_persistence: desired.session_persistence,
        default_cert: certId(desired.default_cert),
        sni_certs: desired.sni_certs.map((name) => certId(name)!),
        redirect_http: desired.redirect_http,
        syslog: desired.syslog,
        admin_state_up: desired.admin_state_up,
        status: 'PENDING_CREATE',
        status_description: null,
      }
      insertVip(db, vip)
      setStackLabel(db, 'vips', vip.id, stack)
      if (entry) entry.vipId = vip.id
    } else {
      const changes = Object.fromEntries(Object.entries(action.fields).map(([field, change]) => [field, change.to]))
      const {subnet: _subnet, default_cert, sni_certs, ...rest} = changes
      updateVipRow(db, action.id!, {
        ...rest,
        subnet_id: 'subnet' in changes ? subnetId : undefined,
        ...('default_cert' in changes ? {default_cert: certId(default_cert as string | null)} : {}),
        ...('sni_certs' in changes ? {sni_certs: (sni_certs as string[]).map((name) => certId(name)!)} : {}),
      })
      setStackLabel(db, 'vips', action.id!, stack)
      // PENDING_UPDATE only when the pool converges, which settles it (a rename alone does not).
      if (entry !== undefined && entry.host !== 'none') {
        setVipStatus(db, action.id!, 'PENDING_UPDATE')
        if (entry) entry.vipId = action.id
      }
    }
  }

  for (const action of byKind('monitor')) if (action.op === 'delete') deleteMonitorRow(db, action.id!)

  // Runtime-only pools: only weights and admin states of existing members changed.
  work.pools = [...poolWork.values()].filter((entry) => entry.host !== 'none' || entry.deleteAfter)
  return work
}

const memberKey = (member: {address: string; protocol_port: number}) => `${member.address}|${member.protocol_port}`

/** `POOL/ADDRESS:PORT` or `POOL/[V6]:PORT` → the endpoint. */
function memberOfName(name: string): {address: string; protocol_port: number} {
  const endpoint = name.slice(name.lastIndexOf('/') + 1)
  const colon = endpoint.lastIndexOf(':')
  return {address: endpoint.slice(0, colon).replace(/^\[|\]$/g, ''), protocol_port: Number(endpoint.slice(colon + 1))}
}

/** Subnets first, then every pool in parallel (each under its lock), then pruned subnets. */
async function converge(ctx: AppContext, plan: Plan, work: Work, parallel: number): Promise<ChangeReport['errors']> {
  const errors: ChangeReport['errors'] = []
  const failedSubnets = new Set<string>()
  for (const id of work.newSubnetIds) {
    const subnet = ctx.store.read(() => getSubnet(ctx.store.db, id))!
    try {
      await ctx.notify.step(`create bridge ${subnet.bridge} for subnet ${subnet.name}`, () => ctx.localExecutor.ensureSubnet(subnet))
    } catch (error) {
      failedSubnets.add(id)
      errors.push({kind: 'subnet', name: subnet.name, message: describeFailure(error)})
    }
  }
  const results = await settleWithConcurrency(work.pools, parallel, (entry) => convergePool(ctx, entry))
  results.forEach((result, index) => {
    if (result.status === 'rejected') errors.push({kind: 'pool', name: work.pools[index].name, message: describeFailure(result.reason)})
  })
  for (const id of work.deletedSubnetIds) {
    try {
      const subnet = ctx.store.write(() => {
        const found = getSubnet(ctx.store.db, id)
        const users = subnetUsers(ctx.store.db, id)
        if (!found || users.pools.length > 0 || users.vips.length > 0) return undefined
        deleteSubnetRow(ctx.store.db, id)
        return found
      })
      if (subnet) await ctx.localExecutor.removeSubnet(subnet)
    } catch (error) {
      errors.push({kind: 'subnet', name: plan.actions.find((action) => action.id === id)?.name ?? id, message: describeFailure(error)})
    }
  }
  return errors
}

async function convergePool(ctx: AppContext, entry: PoolWork): Promise<void> {
  const touched = {pool: true, vipId: entry.vipId, memberIds: entry.touchedMemberIds}
  if (entry.host === 'runtime') {
    await applyPool(ctx, entry.poolId, {memberIds: entry.touchedMemberIds}, {runtimeMemberIds: entry.runtimeMemberIds})
  } else {
    await applyPool(ctx, entry.poolId, touched)
  }
  crashPoint('apply-after-pool')
  if (entry.previousAgent !== undefined) {
    const now = ctx.store.read(() => listPools(ctx.store.db).find((pool) => pool.id === entry.poolId))
    if (now && now.agent !== entry.previousAgent) await undeployFrom(ctx, entry.poolId, entry.previousAgent)
  }
  if (entry.deleteAfter) ctx.store.write(() => deletePoolRow(ctx.store.db, entry.poolId))
}

export interface ExportRequest {
  stack?: string
  /** Pool names or ids; none: every pool of the stack (or every pool). */
  pools: readonly string[]
}

/** The state as an apply file object (SPEC §8.2 `lbaas export`). */
export function exportStack(ctx: AppContext, request: ExportRequest): Record<string, unknown> {
  const {db} = ctx.store
  return ctx.store.read(() => {
    const state = loadSnapshot(db)
    const chosen = request.pools.length > 0 ? request.pools.map((ref) => resolvePool(db, ref)) : state.pools.filter((pool) => request.stack === undefined || pool.stack === request.stack)
    const labels = new Set(state.pools.filter((pool) => chosen.some((candidate) => candidate.id === pool.id)).map((pool) => pool.stack))
    const stack = request.stack ?? (labels.size === 1 ? [...labels][0] : null)
    if (!stack) {
      throw new ApplyFileError([{path: 'stack', message: 'the pools carry no single stack label: choose one with --stack NAME (applying the export adopts them into it)'}])
    }
    const {file, problems} = exportFile(state, {stack: stackName(stack), poolIds: chosen.map((pool) => pool.id)})
    if (!file) throw new ApplyFileError(problems)
    return file
  })
}

/** The text of `-f PATH` (`-` is standard input), refusing more than MAX_FILE_BYTES before reading it all. */
export async function readApplySource(path: string): Promise<string> {
  const tooBig = (size: number) => new ApplyFileError([{path: '(file)', message: `the file is ${size} bytes or more; apply files are limited to ${MAX_FILE_BYTES} bytes (4 MiB)`}])
  if (path === '-') {
    const chunks: Buffer[] = []
    let size = 0
    // Read to the end even when too big: the writer of a pipe gets no EPIPE, only our answer.
    for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
      size += chunk.length
      if (size <= MAX_FILE_BYTES) chunks.push(chunk)
    }
    if (size > MAX_FILE_BYTES) throw tooBig(size)
    return Buffer.concat(chunks).toString('utf8')
  }
  let stats
  try {
    stats = statSync(path)
  } catch (error) {
    throw new ApplyFileError([{path: '(file)', message: `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`}])
  }
  if (!stats.isFile()) throw new ApplyFileError([{path: '(file)', message: `${path} is not a regular file`}])
  if (stats.size > MAX_FILE_BYTES) throw tooBig(stats.size)
  return readFileSync(path, 'utf8')
}

/** Exit 1 naming every object that did not converge (SPEC §8.2); undefined when all did. */
export function convergenceFailure(report: ChangeReport): LbaasError | undefined {
  if (report.errors.length === 0) return undefined
  const names = report.errors.map((error) => `${error.kind} ${error.name}`).join(', ')
  return new LbaasError('apply_failed', EXIT.runtime, `these did not converge: ${names}`, 'see `lbaas status`; applying again retries them')
}

/** The JSON Schema of apply files (`lbaas schema`). */
export function applyFileSchema(): object {
  return APPLY_FILE_SCHEMA
}
