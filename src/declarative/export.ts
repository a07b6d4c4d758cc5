/**
 * The state as an apply file (SPEC §8.2 `lbaas export`): every field written out, keys in
 * a stable order, so that applying the export plans nothing. Pure.
 */
import {monitorSettings, type Pool} from '../domain/types.js'
import {API_VERSION, type Problem} from './file.js'
import type {StateSnapshot} from './state.js'

export interface ExportSelection {
  stack: string
  /** The pools to export (ids). */
  poolIds: readonly string[]
}

export function exportFile(state: StateSnapshot, selection: ExportSelection): {file?: Record<string, unknown>; problems: Problem[]} {
  const pools = state.pools.filter((pool) => selection.poolIds.includes(pool.id))
  // The stack's own subnets and monitors are listed; others the pools use are referred to by
  // name only (a lab subnet, another stack's monitor). Exporting unlabelled pools into a
  // stack lists the unlabelled objects they use too: applying that file adopts them all.
  const owned = (stack: string | null) => stack === selection.stack || (stack === null && pools.some((pool) => pool.stack === null))
  const subnetIds = new Set<string>()
  const monitorIds: string[] = []
  for (const pool of pools) {
    subnetIds.add(pool.subnet_id)
    const vip = state.vips.find((candidate) => candidate.pool_id === pool.id)
    if (vip) subnetIds.add(vip.subnet_id)
    for (const association of associationsOf(state, pool)) if (!monitorIds.includes(association.monitor_id)) monitorIds.push(association.monitor_id)
  }
  for (const subnet of state.subnets) {
    if (subnet.stack === selection.stack) subnetIds.add(subnet.id)
    else if (!owned(subnet.stack)) subnetIds.delete(subnet.id)
  }
  for (const monitor of state.monitors) if (monitor.stack === selection.stack && !monitorIds.includes(monitor.id)) monitorIds.push(monitor.id)
  const listedMonitorIds = monitorIds.filter((id) => owned(state.monitors.find((monitor) => monitor.id === id)!.stack))
  const problems: Problem[] = []
  const monitors = state.monitors.filter((monitor) => listedMonitorIds.includes(monitor.id))
  // Every monitor a pool uses is referred to by name, listed or not.
  for (const monitor of state.monitors.filter((candidate) => monitorIds.includes(candidate.id))) {
    if (monitor.name === null) {
      problems.push({path: `monitor ${monitor.id}`, message: `has no name, so a file cannot refer to it; name it: \`lbaas monitor update ${monitor.id} --name NAME\``})
    }
  }
  if (problems.length > 0) return {problems}
  const subnetName = (id: string) => state.subnets.find((subnet) => subnet.id === id)!.name
  // Certificates by reference only (never key material or PEM): a name and the fingerprint
  // the certificate has, which apply reads as "exists, keep as is".
  const certName = (id: string) => state.certs.find((cert) => cert.id === id)?.name ?? id
  const exportedVips = state.vips.filter((vip) => pools.some((pool) => pool.id === vip.pool_id) && vip.status !== 'PENDING_DELETE')
  const usedCertIds = new Set(exportedVips.flatMap((vip) => [...(vip.default_cert === null ? [] : [vip.default_cert]), ...vip.sni_certs]))
  const certs = state.certs
    .filter((cert) => usedCertIds.has(cert.id) || cert.stack === selection.stack)
    .map((cert) => ({name: cert.name, fingerprint_sha256: cert.fingerprint_sha256}))
  return {
    problems,
    file: {
      apiVersion: API_VERSION,
      stack: selection.stack,
      ...(certs.length > 0 ? {certs} : {}),
      subnets: state.subnets
        .filter((subnet) => subnetIds.has(subnet.id))
        .map((subnet) => ({name: subnet.name, cidr: subnet.cidr, gateway_ip: subnet.gateway_ip, ...(subnet.managed ? {} : {bridge: subnet.bridge})})),
      monitors: monitors.map((monitor) => ({name: monitor.name, ...monitorSettings(monitor)})),
      pools: pools.map((pool) => {
        const vip = state.vips.find((candidate) => candidate.pool_id === pool.id && candidate.status !== 'PENDING_DELETE')
        return {
          name: pool.name,
          description: pool.description,
          subnet: subnetName(pool.subnet_id),
          protocol: pool.protocol,
          lb_method: pool.lb_method,
          admin_state_up: pool.admin_state_up,
          ...(pool.agent === 'local' ? {} : {agent: pool.agent}),
          monitors: associationsOf(state, pool).map((association) => state.monitors.find((monitor) => monitor.id === association.monitor_id)!.name),
          members: state.members
            .filter((member) => member.pool_id === pool.id && member.status !== 'PENDING_DELETE')
            .map((member) => ({address: member.address, protocol_port: member.protocol_port, weight: member.weight, admin_state_up: member.admin_state_up})),
          vip: vip
            ? {
                name: vip.name,
                description: vip.description,
                subnet: subnetName(vip.subnet_id),
                protocol: vip.protocol,
                ...(vip.protocol === 'TERMINATED_HTTPS'
                  ? {default_cert: vip.default_cert === null ? null : certName(vip.default_cert), sni_certs: vip.sni_certs.map(certName), redirect_http: vip.redirect_http}
                  : {}),
                protocol_port: vip.protocol_port,
                address: vip.address,
                connection_limit: vip.connection_limit,
                session_persistence: vip.session_persistence,
                ...(vip.syslog === null ? {} : {syslog: vip.syslog}),
                admin_state_up: vip.admin_state_up,
              }
            : null,
        }
      }),
    },
  }
}

function associationsOf(state: StateSnapshot, pool: Pool) {
  return state.associations.filter((association) => association.pool_id === pool.id && association.status !== 'PENDING_DELETE')
}
