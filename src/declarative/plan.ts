/**
 * The planner (SPEC §8.2): state + desired file → what apply would do. Pure: no I/O, no
 * clock, no random ids (objects to create have none yet). Every object gets an action
 * (`create`, `update`, `delete`, `adopt`, `none`) with the fields that change, old → new;
 * every pool the host effect its changes need (`deploy`, `reload`, `runtime`, `replug`,
 * `undeploy`, `none`). Problems are file errors only the state can reveal (exit 2);
 * conflicts are names another stack owns (exit 4).
 *
 * Within a pool the file is exact: members, monitor associations and the VIP it does not
 * list are removed without --prune. --prune removes whole subnets, monitors and pools of
 * the file's stack that the file no longer lists.
 */
import {firstFreeHost, isUsableHost, networkContains, parseNetwork, type Network} from '../domain/ip.js'
import type {Member, Monitor, Pool, SessionPersistence, Subnet, Vip} from '../domain/types.js'
import type {DesiredFile, DesiredMember, DesiredMonitor, DesiredPool, DesiredSubnet, DesiredVip, Problem} from './file.js'
import type {Labelled, StateSnapshot} from './state.js'

export type ActionKind = 'cert' | 'subnet' | 'monitor' | 'pool' | 'member' | 'vip'
export type ActionOp = 'create' | 'update' | 'delete' | 'adopt' | 'none'
export type HostEffect = 'deploy' | 'reload' | 'runtime' | 'replug' | 'undeploy' | 'none'

export interface FieldChange {
  from: unknown
  to: unknown
}

export interface Action {
  kind: ActionKind
  /** Certificate, subnet, monitor, pool or VIP name; a member is `POOL/ADDRESS:PORT`. */
  name: string
  op: ActionOp
  fields: Record<string, FieldChange>
  /** Pools: what the host must do for the pool; certificates: `runtime` when a rotation reaches deployed VIPs. */
  host: HostEffect | null
  /** The existing object; absent for create. */
  id?: string
  /** Members and VIPs: the name of their pool (after the apply). */
  pool?: string
}

export interface Plan {
  stack: string
  actions: Action[]
  problems: Problem[]
  conflicts: Problem[]
  /** Anything to write or to do on the host. */
  changed: boolean
  /** What asks for confirmation on a TTY: deleting or replugging a deployed VIP. */
  destructive: string[]
  /** Desired state, resolved: what apply writes. */
  resolved: ResolvedFile
}

/** The file with everything the state decides settled: VIP addresses, subnets by name. */
export interface ResolvedFile extends DesiredFile {
  pools: (DesiredPool & {vip: (DesiredVip & {address: string}) | null})[]
}

export interface PlanOptions {
  prune: boolean
}

const LOCAL = 'local'

export function planApply(state: StateSnapshot, file: DesiredFile, options: PlanOptions): Plan {
  return new Planner(state, file, options).run()
}

class Planner {
  readonly actions: Action[] = []
  readonly problems: Problem[] = []
  readonly conflicts: Problem[] = []
  readonly destructive: string[] = []
  /** Pools (by name) whose rendered configuration changes; the reason is for nothing but debugging. */
  private readonly reloads = new Set<string>()
  private readonly runtime = new Set<string>()
  private readonly replugs = new Set<string>()
  private readonly monitorChanged = new Set<string>()
  private readonly hostEffects: (() => void)[] = []

  constructor(
    private readonly state: StateSnapshot,
    private readonly file: DesiredFile,
    private readonly options: PlanOptions,
  ) {}

  run(): Plan {
    this.certs()
    this.subnets()
    this.monitors()
    const resolvedPools = this.pools()
    this.pruneMonitorsAndSubnets()
    this.pruneCerts()
    const changed = this.actions.some((action) => action.op !== 'none' || (action.host !== null && action.host !== 'none'))
    return {
      stack: this.file.stack,
      actions: this.actions,
      problems: this.problems,
      conflicts: this.conflicts,
      changed,
      destructive: this.destructive,
      resolved: {...this.file, pools: resolvedPools},
    }
  }

  // ---- ownership -----------------------------------------------------------------

  /** create / adopt / (update|none), or undefined after recording a conflict. */
  private ownership(kind: ActionKind, name: string, path: string, existing: {id: string; stack: string | null} | undefined): ActionOp | undefined {
    if (!existing) return 'create'
    if (existing.stack === null) return 'adopt'
    if (existing.stack === this.file.stack) return 'none'
    this.conflicts.push({path, message: `${kind} ${name} (${existing.id}) belongs to stack ${existing.stack}`})
    return undefined
  }

  private push(action: Action): Action {
    if (action.op === 'none' && Object.keys(action.fields).length > 0) action.op = 'update'
    this.actions.push(action)
    return action
  }

  // ---- certificates --------------------------------------------------------------

  private certs(): void {
    this.file.certs.forEach((desired, index) => {
      const path = `certs[${index}]`
      const existing = this.state.certs.find((cert) => cert.name === desired.name)
      if (!desired.source) {
        // A reference (what export writes): the certificate must exist; it is kept as is.
        if (!existing) {
          this.problems.push({path, message: `no certificate named ${desired.name} in the state; give cert_file and key_file (or cert_pem and key_pem)`})
          return
        }
        if (desired.fingerprint_sha256 !== undefined && desired.fingerprint_sha256 !== existing.fingerprint_sha256) {
          this.problems.push({path: `${path}.fingerprint_sha256`, message: `certificate ${desired.name} now has fingerprint ${existing.fingerprint_sha256} (renewed since this file was written); drop the fingerprint or give the new material`})
          return
        }
        // A reference uses the certificate without claiming it: no label, whatever its stack.
        this.push({kind: 'cert', name: desired.name, op: 'none', fields: {}, host: null, id: existing.id})
        return
      }
      const op = this.ownership('cert', desired.name, path, existing)
      if (op === undefined) return
      const checked = desired.checked
      if (!existing) {
        this.push({kind: 'cert', name: desired.name, op, fields: {fingerprint_sha256: {from: null, to: checked?.fingerprint_sha256}}, host: null})
        return
      }
      const fields: Record<string, FieldChange> = {}
      if (desired.source && checked) {
        if (checked.fingerprint_sha256 !== existing.fingerprint_sha256) fields.fingerprint_sha256 = {from: existing.fingerprint_sha256, to: checked.fingerprint_sha256}
        if (checked.key_sha256 !== existing.key_sha256) fields.key = {from: 'current', to: 'replaced'}
      }
      const deployed = existing.used_by.some((vipId) => this.state.vips.some((vip) => vip.id === vipId))
      const rotates = Object.keys(fields).length > 0
      this.push({kind: 'cert', name: desired.name, op, fields, host: rotates && deployed ? 'runtime' : null, id: existing.id})
    })
  }

  private certExists(name: string): boolean {
    return this.file.certs.some((cert) => cert.name === name) || this.state.certs.some((cert) => cert.name === name)
  }

  private certName(id: string | null): string | null {
    return id === null ? null : (this.state.certs.find((cert) => cert.id === id)?.name ?? id)
  }

  private checkVipCerts(vip: DesiredVip, path: string): void {
    const refs: [string, string | null][] = [[`${path}.default_cert`, vip.default_cert], ...vip.sni_certs.map((name, index): [string, string] => [`${path}.sni_certs[${index}]`, name])]
    for (const [at, name] of refs) {
      if (name !== null && !this.certExists(name)) this.problems.push({path: at, message: `no certificate named ${name} in the file or the state`})
    }
  }

  /** --prune: the stack's certificates the file no longer lists, unless a VIP that stays serves them. */
  private pruneCerts(): void {
    if (!this.options.prune) return
    const leaving = new Set(this.actions.filter((action) => action.kind === 'vip' && action.op === 'delete').map((action) => action.id))
    const filePools = new Set(this.file.pools.map((pool) => pool.name))
    for (const cert of this.state.certs) {
      if (cert.stack !== this.file.stack || this.file.certs.some((desired) => desired.name === cert.name)) continue
      const outside = cert.used_by
        .map((vipId) => this.state.vips.find((vip) => vip.id === vipId))
        .filter((vip): vip is Labelled<Vip> => vip !== undefined && !leaving.has(vip.id))
        .filter((vip) => !filePools.has(this.state.pools.find((pool) => pool.id === vip.pool_id)?.name ?? ''))
      const inFile = this.file.pools.filter((pool) => pool.vip !== null && (pool.vip.default_cert === cert.name || pool.vip.sni_certs.includes(cert.name)))
      const users = [...outside.map((vip) => `VIP ${vip.name}`), ...inFile.map((pool) => `VIP ${pool.vip!.name}`)]
      if (users.length > 0) {
        this.conflicts.push({path: 'certs', message: `certificate ${cert.name} is no longer in the file but ${[...new Set(users)].join(', ')} use it`})
        continue
      }
      this.push({kind: 'cert', name: cert.name, op: 'delete', fields: {}, host: null, id: cert.id})
    }
  }

  // ---- subnets -------------------------------------------------------------------

  private subnets(): void {
    this.file.subnets.forEach((desired, index) => {
      const path = `subnets[${index}]`
      const existing = this.state.subnets.find((subnet) => subnet.name === desired.name)
      const op = this.ownership('subnet', desired.name, path, existing)
      if (op === undefined) return
      if (!existing) {
        this.checkOverlap(desired, path)
        this.push({kind: 'subnet', name: desired.name, op, fields: createdFields(desired), host: null})
        return
      }
      this.checkSubnetUnchanged(existing, desired, path)
      this.push({kind: 'subnet', name: desired.name, op, fields: {}, host: null, id: existing.id})
    })
  }

  private checkOverlap(desired: DesiredSubnet, path: string): void {
    const network = parseNetwork(desired.cidr) as Network
    const others = [...this.state.subnets.map((subnet) => ({name: subnet.name, cidr: subnet.cidr})), ...this.file.subnets.filter((other) => other !== desired && !this.state.subnets.some((subnet) => subnet.name === other.name))]
    for (const other of others) {
      if (other.name === desired.name) continue
      const otherNetwork = parseNetwork(other.cidr) as Network
      if (overlaps(network, otherNetwork)) {
        this.problems.push({path: `${path}.cidr`, message: `${desired.cidr} overlaps subnet ${other.name} (${other.cidr})`})
        return
      }
    }
  }

  private checkSubnetUnchanged(existing: Subnet, desired: DesiredSubnet, path: string): void {
    const say = (field: string, now: string, wanted: string) =>
      this.problems.push({path: `${path}.${field}`, message: `subnet ${existing.name} has ${field} ${now}, not ${wanted}; subnets cannot be changed in place`})
    if (existing.cidr !== desired.cidr) say('cidr', existing.cidr, desired.cidr)
    if (desired.gateway_ip !== undefined && existing.gateway_ip !== desired.gateway_ip) say('gateway_ip', existing.gateway_ip, desired.gateway_ip)
    if (desired.bridge !== undefined && (existing.managed || existing.bridge !== desired.bridge)) say('bridge', existing.managed ? `${existing.bridge} (managed)` : existing.bridge, desired.bridge)
    if (desired.bridge === undefined && !existing.managed) say('bridge', existing.bridge, 'a managed bridge')
  }

  // ---- monitors ------------------------------------------------------------------

  private monitors(): void {
    this.file.monitors.forEach((desired, index) => {
      const path = `monitors[${index}]`
      const existing = this.state.monitors.find((monitor) => monitor.name === desired.name)
      const op = this.ownership('monitor', desired.name, path, existing)
      if (op === undefined) return
      if (!existing) {
        this.push({kind: 'monitor', name: desired.name, op, fields: createdFields(desired, ['name']), host: null})
        return
      }
      const fields = diff(existing, desired, ['type', 'delay', 'timeout', 'max_retries', 'http_method', 'url_path', 'expected_codes', 'admin_state_up'])
      if (Object.keys(fields).length > 0) this.monitorChanged.add(existing.id)
      this.push({kind: 'monitor', name: desired.name, op, fields, host: null, id: existing.id})
    })
  }

  private monitorByName(name: string): {id?: string} | undefined {
    if (this.file.monitors.some((monitor) => monitor.name === name)) {
      return {id: this.state.monitors.find((monitor) => monitor.name === name)?.id}
    }
    const existing = this.state.monitors.find((monitor) => monitor.name === name)
    return existing && {id: existing.id}
  }

  private monitorLabel(id: string): string {
    return this.state.monitors.find((monitor) => monitor.id === id)?.name ?? id
  }

  // ---- pools ---------------------------------------------------------------------

  private subnetExists(name: string): boolean {
    return this.file.subnets.some((subnet) => subnet.name === name) || this.state.subnets.some((subnet) => subnet.name === name)
  }

  private subnetNamed(name: string): {id?: string; cidr: string; gateway_ip?: string} | undefined {
    const existing = this.state.subnets.find((subnet) => subnet.name === name)
    if (existing) return existing
    const desired = this.file.subnets.find((subnet) => subnet.name === name)
    if (!desired) return undefined
    const network = parseNetwork(desired.cidr) as Network
    return {cidr: desired.cidr, gateway_ip: desired.gateway_ip ?? firstFreeHost(network, new Set())}
  }

  private subnetName(id: string): string {
    return this.state.subnets.find((subnet) => subnet.id === id)?.name ?? id
  }

  private pools(): ResolvedFile['pools'] {
    const filePoolNames = new Set(this.file.pools.map((pool) => pool.name))
    const memberMoves = this.memberMoves(filePoolNames)
    const addresses = new AddressBook(this.state, this.file)
    const resolved: ResolvedFile['pools'] = []
    this.file.pools.forEach((desired, index) => {
      const path = `pools[${index}]`
      const candidates = this.state.pools.filter((pool) => pool.name === desired.name)
      if (candidates.length > 1) {
        this.conflicts.push({path: `${path}.name`, message: `several pools are named ${desired.name} (${candidates.map((pool) => pool.id).join(', ')}); rename all but one`})
        return
      }
      const existing = candidates[0]
      const op = this.ownership('pool', desired.name, path, existing)
      if (op === undefined) return
      if (!this.subnetExists(desired.subnet)) this.problems.push({path: `${path}.subnet`, message: `no subnet named ${desired.subnet} in the file or the state`})
      desired.monitors.forEach((name, monitorIndex) => {
        if (!this.monitorByName(name)) this.problems.push({path: `${path}.monitors[${monitorIndex}]`, message: `no monitor named ${name} in the file or the state`})
      })
      if (desired.vip) this.checkVipCerts(desired.vip, `${path}.vip`)
      const vip = desired.vip && this.resolveVip(desired, existing, addresses, `${path}.vip`)
      resolved.push({...desired, vip: vip ?? null})
      if (!existing) this.createPool(desired, vip ?? null)
      else this.updatePool(existing, desired, vip ?? null, op, path, memberMoves)
    })
    for (const settle of this.hostEffects) settle()
    this.prunePools(filePoolNames)
    this.reloadOtherUsersOfChangedMonitors(filePoolNames)
    this.retryUnsettled(filePoolNames)
    return resolved
  }

  /** Members leaving one listed pool for another: moved (same member, new pool) rather than deleted and created. */
  private memberMoves(filePoolNames: Set<string>): Map<string, Member> {
    const moves = new Map<string, Member>()
    const wanted = new Map<string, string>()
    for (const pool of this.file.pools) for (const member of pool.members) wanted.set(endpoint(member), pool.name)
    for (const pool of this.state.pools) {
      if (!filePoolNames.has(pool.name) || pool.stack !== this.file.stack && pool.stack !== null) continue
      const desired = this.file.pools.find((candidate) => candidate.name === pool.name)!
      for (const member of this.membersOf(pool.id)) {
        const key = endpoint(member)
        if (desired.members.some((candidate) => endpoint(candidate) === key)) continue
        const target = wanted.get(key)
        const targetPool = target && this.state.pools.find((candidate) => candidate.name === target)
        // Only into a pool that exists already: a new pool's members are created with it.
        if (target && targetPool && !this.membersOf(targetPool.id).some((candidate) => endpoint(candidate) === key)) {
          moves.set(`${target}\u0000${key}`, member)
        }
      }
    }
    return moves
  }

  private membersOf(poolId: string): Member[] {
    return this.state.members.filter((member) => member.pool_id === poolId)
  }

  private resolveVip(desired: DesiredPool, existing: Pool | undefined, addresses: AddressBook, path: string): (DesiredVip & {address: string}) | undefined {
    const wanted = desired.vip!
    const current = existing && this.state.vips.find((vip) => vip.pool_id === existing.id)
    const elsewhere = this.state.vips.find((vip) => vip.name === wanted.name && vip.pool_id !== existing?.id && !this.leavesWithPool(vip))
    if (elsewhere) {
      this.conflicts.push({path: `${path}.name`, message: `a VIP named ${wanted.name} (${elsewhere.id}) already serves another pool`})
      return undefined
    }
    const subnet = this.subnetNamed(wanted.subnet)
    if (!subnet) {
      // The pool's own subnet, when the VIP defaults to it, is reported once (at the pool).
      if (wanted.subnet !== desired.subnet) this.problems.push({path: `${path}.subnet`, message: `no subnet named ${wanted.subnet} in the file or the state`})
      return undefined
    }
    const network = parseNetwork(subnet.cidr) as Network
    const sameSubnet = current !== undefined && subnet.id === current.subnet_id
    if (wanted.address !== undefined) {
      if (!isUsableHost(network, wanted.address) || wanted.address === subnet.gateway_ip) {
        this.problems.push({path: `${path}.address`, message: `${wanted.address} is not a free host address inside ${wanted.subnet} (${subnet.cidr})`})
        return undefined
      }
      const holder = this.state.vips.find((vip) => vip.address === wanted.address && vip.id !== current?.id && !this.leavesWithPool(vip))
      if (holder) {
        this.conflicts.push({path: `${path}.address`, message: `${wanted.address} is the address of VIP ${holder.name} (${holder.id})`})
        return undefined
      }
      return {...wanted, address: wanted.address}
    }
    // Once assigned, an address is kept across applies (unless the VIP changes subnet).
    if (current && sameSubnet) return {...wanted, address: current.address}
    const free = addresses.take(network, subnet.gateway_ip)
    if (!free) {
      this.problems.push({path: `${path}.address`, message: `subnet ${wanted.subnet} (${subnet.cidr}) has no free address left`})
      return undefined
    }
    return {...wanted, address: free}
  }

  /** A VIP whose pool this apply deletes or whose pool drops it. */
  private leavesWithPool(vip: Vip): boolean {
    const pool = this.state.pools.find((candidate) => candidate.id === vip.pool_id)
    if (!pool) return false
    const desired = this.file.pools.find((candidate) => candidate.name === pool.name)
    if (desired) return desired.vip === null
    return this.options.prune && pool.stack === this.file.stack
  }

  private createPool(desired: DesiredPool, vip: (DesiredVip & {address: string}) | null): void {
    const {members, vip: _vip, monitors, ...fields} = desired
    this.push({
      kind: 'pool',
      name: desired.name,
      op: 'create',
      fields: {...createdFields({...fields, agent: desired.agent ?? LOCAL}), ...(monitors.length > 0 ? {monitors: {from: null, to: monitors}} : {})},
      host: vip ? 'deploy' : 'none',
    })
    for (const member of members) {
      this.push({kind: 'member', name: memberName(desired.name, member), op: 'create', fields: createdFields(member), host: null, pool: desired.name})
    }
    if (vip) this.push({kind: 'vip', name: vip.name, op: 'create', fields: createdFields(vipFields(vip)), host: null, pool: desired.name})
  }

  private updatePool(
    existing: Labelled<Pool>,
    desired: DesiredPool,
    vip: (DesiredVip & {address: string}) | null,
    op: ActionOp,
    path: string,
    moves: Map<string, Member>,
  ): void {
    const name = desired.name
    if (existing.protocol !== desired.protocol) {
      this.problems.push({path: `${path}.protocol`, message: `pool ${name} is ${existing.protocol}; a pool's protocol cannot be changed in place`})
    }
    if (this.subnetName(existing.subnet_id) !== desired.subnet) {
      this.problems.push({path: `${path}.subnet`, message: `pool ${name} is on subnet ${this.subnetName(existing.subnet_id)}; a pool's subnet cannot be changed in place`})
    }
    const fields = diff(existing, desired, ['description', 'lb_method', 'admin_state_up'])
    if (desired.agent !== undefined && desired.agent !== 'auto' && desired.agent !== existing.agent) fields.agent = {from: existing.agent, to: desired.agent}
    const currentMonitors = this.state.associations.filter((association) => association.pool_id === existing.id && association.status !== 'PENDING_DELETE').map((association) => this.monitorLabel(association.monitor_id))
    if (JSON.stringify(currentMonitors) !== JSON.stringify(desired.monitors)) fields.monitors = {from: currentMonitors, to: desired.monitors}
    const renders = ['lb_method', 'admin_state_up', 'agent', 'monitors'].some((field) => field in fields)
    if (renders) this.reloads.add(name)
    const poolAction = this.push({kind: 'pool', name, op, fields, host: 'none', id: existing.id})

    this.updateMembers(existing, desired, moves)
    this.updateVip(existing, desired, vip)
    const associated = this.state.associations.some((association) => association.pool_id === existing.id && this.monitorChanged.has(association.monitor_id))
    if (associated) this.reloads.add(name)

    const current = this.state.vips.find((candidate) => candidate.pool_id === existing.id)
    // A VIP left PENDING_DELETE by a crash is still on the host until a deploy removes it.
    const deployedBefore = current !== undefined
    // Settled once every pool is planned: a member moving away from this pool reloads it too.
    this.hostEffects.push(() => {
      poolAction.host = hostEffect({
        deployedBefore,
        deployedAfter: vip !== null,
        replug: this.replugs.has(name),
        reload: this.reloads.has(name),
        runtime: this.runtime.has(name),
        unsettled: this.unsettled(existing.id),
      })
    })
  }

  private updateMembers(existing: Pool, desired: DesiredPool, moves: Map<string, Member>): void {
    const current = this.membersOf(existing.id)
    for (const member of desired.members) {
      const key = endpoint(member)
      const found = current.find((candidate) => endpoint(candidate) === key)
      const moved = moves.get(`${desired.name}\u0000${key}`)
      if (found) {
        const fields = diff(found, member, ['weight', 'admin_state_up'])
        if (Object.keys(fields).length > 0) this.runtime.add(desired.name)
        this.push({kind: 'member', name: memberName(desired.name, member), op: 'none', fields, host: null, id: found.id, pool: desired.name})
      } else if (moved) {
        const from = this.state.pools.find((pool) => pool.id === moved.pool_id)!
        this.reloads.add(desired.name).add(from.name)
        const fields = {pool: {from: from.name, to: desired.name}, ...diff(moved, member, ['weight', 'admin_state_up'])}
        this.push({kind: 'member', name: memberName(desired.name, member), op: 'update', fields, host: null, id: moved.id, pool: desired.name})
      } else {
        this.reloads.add(desired.name)
        this.push({kind: 'member', name: memberName(desired.name, member), op: 'create', fields: createdFields(member), host: null, pool: desired.name})
      }
    }
    const movedIds = new Set([...moves.values()].map((member) => member.id))
    for (const member of current) {
      if (desired.members.some((candidate) => endpoint(candidate) === endpoint(member)) || movedIds.has(member.id)) continue
      this.reloads.add(desired.name)
      this.push({kind: 'member', name: memberName(desired.name, member), op: 'delete', fields: {}, host: null, id: member.id, pool: desired.name})
    }
  }

  private updateVip(existing: Pool, desired: DesiredPool, vip: (DesiredVip & {address: string}) | null): void {
    const current = this.state.vips.find((candidate) => candidate.pool_id === existing.id)
    if (!current) {
      if (vip) this.push({kind: 'vip', name: vip.name, op: 'create', fields: createdFields(vipFields(vip)), host: null, pool: desired.name})
      return
    }
    if (!vip) {
      this.destructive.push(`delete VIP ${current.name} (${current.address}) of pool ${desired.name}`)
      this.push({kind: 'vip', name: current.name, op: 'delete', fields: {}, host: null, id: current.id, pool: desired.name})
      return
    }
    const now = {
      ...vipFields({...current, subnet: this.subnetName(current.subnet_id)}),
      default_cert: this.certName(current.default_cert),
      sni_certs: current.sni_certs.map((id) => this.certName(id)),
    }
    const fields = diff(now, vipFields(vip), ['name', 'description', 'subnet', 'protocol', 'protocol_port', 'address', 'connection_limit', 'session_persistence', 'syslog', 'admin_state_up', 'default_cert', 'sni_certs', 'redirect_http'])
    if ('address' in fields || 'subnet' in fields) {
      this.replugs.add(desired.name)
      this.destructive.push(`replug VIP ${current.name} from ${current.address} to ${vip.address}`)
    }
    if (['protocol', 'protocol_port', 'connection_limit', 'session_persistence', 'syslog', 'admin_state_up', 'default_cert', 'sni_certs', 'redirect_http'].some((field) => field in fields)) this.reloads.add(desired.name)
    this.push({kind: 'vip', name: vip.name, op: 'none', fields, host: null, id: current.id, pool: desired.name})
  }

  /** Any object of the pool still PENDING_* or ERROR: a crash or a failure to retry. */
  private unsettled(poolId: string): boolean {
    const unsettled = (status: string) => status.startsWith('PENDING_') || status === 'ERROR'
    const pool = this.state.pools.find((candidate) => candidate.id === poolId)
    return (
      (pool !== undefined && unsettled(pool.status)) ||
      this.state.vips.some((vip) => vip.pool_id === poolId && unsettled(vip.status)) ||
      this.state.members.some((member) => member.pool_id === poolId && unsettled(member.status)) ||
      this.state.associations.some((association) => association.pool_id === poolId && unsettled(association.status))
    )
  }

  private prunePools(filePoolNames: Set<string>): void {
    if (!this.options.prune) return
    for (const pool of this.state.pools) {
      if (pool.stack !== this.file.stack || filePoolNames.has(pool.name)) continue
      const vip = this.state.vips.find((candidate) => candidate.pool_id === pool.id)
      if (vip) this.destructive.push(`delete VIP ${vip.name} (${vip.address}) and pool ${pool.name}`)
      this.push({kind: 'pool', name: pool.name, op: 'delete', fields: {}, host: vip ? 'undeploy' : 'none', id: pool.id})
      for (const member of this.membersOf(pool.id)) {
        this.push({kind: 'member', name: memberName(pool.name, member), op: 'delete', fields: {}, host: null, id: member.id, pool: pool.name})
      }
      if (vip) this.push({kind: 'vip', name: vip.name, op: 'delete', fields: {}, host: null, id: vip.id, pool: pool.name})
    }
  }

  /** A changed monitor of this stack may serve deployed pools the file does not list: they reload too. */
  private reloadOtherUsersOfChangedMonitors(filePoolNames: Set<string>): void {
    for (const association of this.state.associations) {
      if (!this.monitorChanged.has(association.monitor_id)) continue
      const pool = this.state.pools.find((candidate) => candidate.id === association.pool_id)
      if (!pool || filePoolNames.has(pool.name) || this.actions.some((action) => action.kind === 'pool' && action.id === pool.id)) continue
      if (!this.state.vips.some((vip) => vip.pool_id === pool.id)) continue
      this.push({kind: 'pool', name: pool.name, op: 'none', fields: {}, host: 'reload', id: pool.id})
    }
  }

  /** Pools of this stack the file does not list, left PENDING_* or ERROR by an earlier apply: deployed again. */
  private retryUnsettled(filePoolNames: Set<string>): void {
    for (const pool of this.state.pools) {
      if (pool.stack !== this.file.stack || filePoolNames.has(pool.name)) continue
      if (this.actions.some((action) => action.kind === 'pool' && action.id === pool.id)) continue
      if (!this.unsettled(pool.id)) continue
      const deployed = this.state.vips.some((vip) => vip.pool_id === pool.id)
      this.push({kind: 'pool', name: pool.name, op: 'none', fields: {}, host: deployed ? 'reload' : 'none', id: pool.id})
    }
  }

  private pruneMonitorsAndSubnets(): void {
    if (!this.options.prune) return
    const deletedPools = new Set(this.actions.filter((action) => action.kind === 'pool' && action.op === 'delete').map((action) => action.id))
    const filePools = new Set(this.file.pools.map((pool) => pool.name))
    for (const monitor of this.state.monitors) {
      if (monitor.stack !== this.file.stack || this.file.monitors.some((desired) => desired.name === monitor.name)) continue
      const users = monitor.pools
        .map((ref) => this.state.pools.find((pool) => pool.id === ref.pool_id))
        .filter((pool): pool is Labelled<Pool> => pool !== undefined && !deletedPools.has(pool.id) && !filePools.has(pool.name))
      if (users.length > 0) {
        this.conflicts.push({path: 'monitors', message: `monitor ${monitor.name} is no longer in the file but pools ${users.map((pool) => pool.name).join(', ')} use it`})
        continue
      }
      this.push({kind: 'monitor', name: monitor.name ?? monitor.id, op: 'delete', fields: {}, host: null, id: monitor.id})
    }
    for (const subnet of this.state.subnets) {
      if (subnet.stack !== this.file.stack || this.file.subnets.some((desired) => desired.name === subnet.name)) continue
      const users = [
        ...this.state.pools.filter((pool) => pool.subnet_id === subnet.id && !deletedPools.has(pool.id)).map((pool) => `pool ${pool.name}`),
        ...this.file.pools.filter((pool) => pool.subnet === subnet.name || pool.vip?.subnet === subnet.name).map((pool) => `pool ${pool.name}`),
      ]
      if (users.length > 0) {
        this.conflicts.push({path: 'subnets', message: `subnet ${subnet.name} is no longer in the file but ${[...new Set(users)].join(', ')} use it`})
        continue
      }
      this.push({kind: 'subnet', name: subnet.name, op: 'delete', fields: {}, host: null, id: subnet.id})
    }
  }
}

function hostEffect(pool: {deployedBefore: boolean; deployedAfter: boolean; replug: boolean; reload: boolean; runtime: boolean; unsettled: boolean}): HostEffect {
  if (!pool.deployedAfter) return pool.deployedBefore ? 'undeploy' : 'none'
  if (!pool.deployedBefore) return 'deploy'
  if (pool.replug) return 'replug'
  if (pool.reload || pool.unsettled) return 'reload'
  return pool.runtime ? 'runtime' : 'none'
}

/** Addresses VIPs may not take: every VIP and member address, gateways, and those the file names. */
class AddressBook {
  private readonly taken = new Set<string>()

  constructor(state: StateSnapshot, file: DesiredFile) {
    for (const vip of state.vips) this.taken.add(vip.address)
    for (const member of state.members) this.taken.add(member.address)
    for (const pool of file.pools) {
      for (const member of pool.members) this.taken.add(member.address)
      if (pool.vip?.address) this.taken.add(pool.vip.address)
    }
  }

  take(network: Network, gateway: string | undefined): string | undefined {
    const taken = new Set(this.taken)
    if (gateway) taken.add(gateway)
    const free = firstFreeHost(network, taken)
    if (free) this.taken.add(free)
    return free
  }
}

function overlaps(a: Network, b: Network): boolean {
  const [wider, narrower] = a.prefix <= b.prefix ? [a, b] : [b, a]
  return networkContains(wider, narrower.address)
}

const endpoint = (member: {address: string; protocol_port: number}): string => `${member.address}:${member.protocol_port}`
const memberName = (pool: string, member: {address: string; protocol_port: number}): string =>
  member.address.includes(':') ? `${pool}/[${member.address}]:${member.protocol_port}` : `${pool}/${endpoint(member)}`

function vipFields(
  vip: Pick<Vip, 'name' | 'description' | 'protocol' | 'protocol_port' | 'address' | 'connection_limit' | 'session_persistence' | 'syslog' | 'admin_state_up' | 'redirect_http'> & {
    subnet: string
    default_cert: string | null
    sni_certs: (string | null)[]
  },
) {
  return {
    name: vip.name,
    description: vip.description,
    subnet: vip.subnet,
    protocol: vip.protocol,
    default_cert: vip.default_cert,
    sni_certs: vip.sni_certs,
    redirect_http: vip.redirect_http,
    protocol_port: vip.protocol_port,
    address: vip.address,
    connection_limit: vip.connection_limit,
    session_persistence: vip.session_persistence as SessionPersistence | null,
    syslog: vip.syslog,
    admin_state_up: vip.admin_state_up,
  }
}

function createdFields(object: object, skip: string[] = []): Record<string, FieldChange> {
  const fields: Record<string, FieldChange> = {}
  for (const [field, value] of Object.entries(object)) {
    if (!skip.includes(field) && value !== undefined) fields[field] = {from: null, to: value}
  }
  return fields
}

function diff(current: object, desired: object, keys: string[]): Record<string, FieldChange> {
  const fields: Record<string, FieldChange> = {}
  for (const key of keys) {
    const from = (current as Record<string, unknown>)[key]
    const to = (desired as Record<string, unknown>)[key]
    if (to === undefined) continue
    if (JSON.stringify(from) !== JSON.stringify(to)) fields[key] = {from, to}
  }
  return fields
}

export type {DesiredMember, DesiredMonitor, Monitor, Member}
