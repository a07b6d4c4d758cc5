/**
 * Parsers for what HAProxy 2.6 prints on its runtime API: `show stat` (CSV), `show servers
 * state` (version 1), `show info`, and the master CLI's `show proc`; the mapping of server
 * status to lbaas member status (SPEC §4.6); and the trimming of a saved server state to
 * what a new configuration can safely inherit. Pure: no I/O.
 *
 * Parsers read columns by name, never by index, and throw RuntimeFailure
 * `haproxy_output` when the text is not what HAProxy prints.
 */
import {RuntimeFailure} from '../domain/errors.js'
import type {HaproxyView} from './view.js'
import {splitHaproxyWords} from './words.js'

function badOutput(command: string, detail: string): RuntimeFailure {
  return new RuntimeFailure('haproxy_output', `unexpected output from HAProxy's \`${command}\`: ${detail}`)
}

// ---- show stat -----------------------------------------------------------------------

/** Totals of one proxy, named as lbaas stores them (they match store/stats.ts RawCounters). */
export interface ProxyCounters {
  bytes_in: number
  bytes_out: number
  active_connections: number
  total_connections: number
}

export interface FrontendStat extends ProxyCounters {
  name: string
  /** `OPEN`, `STOP`, ... */
  status: string
}

export interface BackendStat extends ProxyCounters {
  name: string
  /** `UP` or `DOWN` (no usable server). */
  status: string
}

export interface ServerStat extends ProxyCounters {
  backend: string
  name: string
  /** HAProxy's text: `UP`, `UP 1/3`, `DOWN`, `DOWN 1/2`, `NOLB`, `MAINT`, `DRAIN`, `no check`, ... */
  status: string
  /** Last check result, e.g. `L7OK`, `L4CON`, `L7STS`; empty without checks. */
  check_status: string
  /** Last check's HTTP status (L7) or empty. */
  check_code: string
  failed_checks: number
  /** Times the server went down. */
  down_transitions: number
  weight: number
  /** Seconds since the last status change. */
  last_change_seconds: number
  /** `address:port` as the running process uses it. */
  address: string
}

export interface ShowStat {
  frontends: FrontendStat[]
  backends: BackendStat[]
  servers: ServerStat[]
}

/** Parses `show stat` CSV (all proxies and servers); the header line starts with `# `. */
export function parseShowStat(text: string): ShowStat {
  const lines = text.split('\n').filter((line) => line.length > 0)
  if (lines.length === 0 || !lines[0].startsWith('# ')) throw badOutput('show stat', 'the CSV header line is missing')
  const columns = lines[0].slice(2).split(',')
  const index = new Map(columns.map((name, position) => [name, position]))
  for (const required of ['pxname', 'svname', 'type', 'status', 'scur', 'stot', 'bin', 'bout']) {
    if (!index.has(required)) throw badOutput('show stat', `the column ${required} is missing`)
  }
  const result: ShowStat = {frontends: [], backends: [], servers: []}
  for (const line of lines.slice(1)) {
    const cells = line.split(',')
    const text = (column: string): string => cells[index.get(column) ?? -1] ?? ''
    const number = (column: string): number => {
      const value = Number(text(column))
      return text(column) === '' || !Number.isFinite(value) ? 0 : value
    }
    const counters: ProxyCounters = {
      bytes_in: number('bin'),
      bytes_out: number('bout'),
      active_connections: number('scur'),
      total_connections: number('stot'),
    }
    switch (text('type')) {
      case '0':
        result.frontends.push({name: text('pxname'), status: text('status'), ...counters})
        break
      case '1':
        result.backends.push({name: text('pxname'), status: text('status'), ...counters})
        break
      case '2':
        result.servers.push({
          backend: text('pxname'),
          name: text('svname'),
          status: text('status'),
          check_status: text('check_status'),
          check_code: text('check_code'),
          failed_checks: number('chkfail'),
          down_transitions: number('chkdown'),
          weight: number('weight'),
          last_change_seconds: number('lastchg'),
          address: text('addr'),
          ...counters,
        })
        break
      default:
      // listeners (type 3) are not shown by a plain `show stat`; nothing to report.
    }
  }
  return result
}

// ---- show servers state --------------------------------------------------------------

/** One server of `show servers state` (format version 1); numeric fields as numbers. */
export interface ServerStateRow {
  be_id: number
  be_name: string
  srv_id: number
  srv_name: string
  srv_addr: string
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  srv_op_state: number
  /** Bits: 0x01 forced maint (runtime API), 0x04 maint from the config (`disabled`), 0x08 forced drain. */
  srv_admin_state: number
  /** Weight in effect (runtime changes included). */
  srv_uweight: number
  /** Weight from the configuration. */
  srv_iweight: number
  srv_port: number
  /** Every column by its header name, as text. */
  fields: Record<string, string>
}

export interface ServersState {
  version: number
  columns: string[]
  servers: ServerStateRow[]
}

export const SERVER_ADMIN_FORCED_MAINT = 0x01
export const SERVER_ADMIN_CONFIG_MAINT = 0x04
export const SERVER_ADMIN_FORCED_DRAIN = 0x08

/**
 * A server-state file HAProxy 2.6 loads without a warning, for the first start (a missing or
 * empty file makes `haproxy -c` and the start print "Can't open/get version of ..." warnings).
 */
export const EMPTY_SERVER_STATE = '1\n'

export function parseServersState(text: string): ServersState {
  const lines = text.split('\n').filter((line) => line.trim().length > 0)
  const version = Number(lines[0])
  if (version !== 1) throw badOutput('show servers state', `version ${JSON.stringify(lines[0] ?? '')} is not 1`)
  const header = lines.find((line) => line.startsWith('# '))
  if (!header && lines.length > 1) throw badOutput('show servers state', 'the header line is missing')
  const columns = header ? header.slice(2).trim().split(/\s+/) : []
  const servers = lines
    .filter((line, position) => position > 0 && !line.startsWith('#'))
    .map((line) => {
      const cells = line.trim().split(/\s+/)
      const fields = Object.fromEntries(columns.map((column, position) => [column, cells[position] ?? '']))
      const number = (column: string): number => Number(fields[column] ?? Number.NaN)
      return {
        be_id: number('be_id'),
        be_name: fields.be_name ?? '',
        srv_id: number('srv_id'),
        srv_name: fields.srv_name ?? '',
        srv_addr: fields.srv_addr ?? '',
        srv_op_state: number('srv_op_state'),
        srv_admin_state: number('srv_admin_state'),
        srv_uweight: number('srv_uweight'),
        srv_iweight: number('srv_iweight'),
        srv_port: number('srv_port'),
        fields,
      }
    })
  return {version, columns, servers}
}

/**
 * The part of a saved `show servers state` a new configuration may inherit on reload.
 *
 * HAProxy 2.6 applies the saved port (`srv_port`) over the configuration's port when a
 * server keeps its name, so a server whose address or port changed must not inherit its
 * old state; neither must a server whose backend moved. Lines of servers the view does not
 * have are dropped as well. Returns the text to write to the server-state file.
 *
 * `runningConfig` is the configuration file of the running process. HAProxy keeps a saved
 * runtime weight when the new configuration's weight equals the weight the process *started*
 * with (likewise runtime maintenance and `disabled`), but lbaas applies weight and admin
 * changes through the runtime API and writes them to the file: a weight set back to the
 * start value in a reload that carries other changes too would otherwise be lost. So the
 * saved rows are told the file's weight and `disabled` as the configured ones: what the new
 * configuration changes wins, what it keeps stays as it runs.
 */
export function retainMatchingServerState(savedState: string, view: HaproxyView, runningConfig?: string | null): string {
  const lines = savedState.split('\n')
  const versionIndex = lines.findIndex((line) => line.trim().length > 0)
  if (versionIndex === -1 || lines[versionIndex].trim() !== '1') return EMPTY_SERVER_STATE
  const state = parseServersState(savedState)
  const expected = new Map<string, string>()
  for (const backend of view.backends) {
    for (const server of backend.servers) expected.set(`${backend.name}/${server.name}`, `${server.address}:${server.port}`)
  }
  const keep = new Set(
    state.servers
      .filter((row) => expected.get(`${row.be_name}/${row.srv_name}`) === `${row.srv_addr}:${row.srv_port}`)
      .map((row) => `${row.be_name}/${row.srv_name}`),
  )
  const header = lines.find((line) => line.startsWith('# '))
  const configured = runningConfig ? configuredServers(runningConfig) : undefined
  const column = (name: string) => state.columns.indexOf(name)
  const rows = lines
    .filter((line, position) => {
      if (position <= versionIndex || line.startsWith('#') || line.trim().length === 0) return false
      const cells = line.trim().split(/\s+/)
      return keep.has(`${cells[column('be_name')]}/${cells[column('srv_name')]}`)
    })
    .map((line) => {
      const cells = line.trim().split(/\s+/)
      const server = configured?.get(`${cells[column('be_name')]}/${cells[column('srv_name')]}`)
      if (!server || column('srv_iweight') === -1 || column('srv_admin_state') === -1) return line
      const admin = Number(cells[column('srv_admin_state')])
      cells[column('srv_admin_state')] = String(server.disabled ? admin | SERVER_ADMIN_CONFIG_MAINT : admin & ~SERVER_ADMIN_CONFIG_MAINT)
      cells[column('srv_iweight')] = String(server.weight)
      return cells.join(' ')
    })
  return ['1', ...(header ? [header] : []), ...rows].join('\n') + '\n'
}

/** `backend/server` → weight and `disabled` of every server line of a configuration lbaas wrote. */
function configuredServers(config: string): Map<string, {weight: number; disabled: boolean}> {
  const servers = new Map<string, {weight: number; disabled: boolean}>()
  let backend: string | undefined
  for (const line of config.split('\n')) {
    let words: string[]
    try {
      words = splitHaproxyWords(line)
    } catch {
      continue
    }
    if (words.length === 0) continue
    if (!/^\s/.test(line)) backend = words[0] === 'backend' ? words[1] : undefined
    else if (backend !== undefined && words[0] === 'server') {
      const weightAt = words.indexOf('weight')
      const weight = weightAt === -1 ? 1 : Number(words[weightAt + 1])
      if (Number.isInteger(weight)) servers.set(`${backend}/${words[1]}`, {weight, disabled: words.includes('disabled')})
    }
  }
  return servers
}

// ---- show info -----------------------------------------------------------------------

export interface ShowInfo {
  pid: number
  version: string
  uptime_seconds: number
  maxconn: number
  current_connections: number
  cumulative_connections: number
  /** Every `Name: value` line as text. */
  fields: Record<string, string>
}

export function parseShowInfo(text: string): ShowInfo {
  const fields: Record<string, string> = {}
  for (const line of text.split('\n')) {
    const separator = line.indexOf(':')
    if (separator > 0) fields[line.slice(0, separator)] = line.slice(separator + 1).trim()
  }
  if (fields.Pid === undefined) throw badOutput('show info', 'there is no Pid line')
  const number = (name: string): number => Number(fields[name] ?? 0) || 0
  return {
    pid: number('Pid'),
    version: fields.Version ?? '',
    uptime_seconds: number('Uptime_sec'),
    maxconn: number('Maxconn'),
    current_connections: number('CurrConns'),
    cumulative_connections: number('CumConns'),
    fields,
  }
}

// ---- show proc (master CLI) ----------------------------------------------------------

export interface ProcessEntry {
  pid: number
  /** Reloads this process has lived through (for the master: reloads it performed, failed ones included). */
  reloads: number
  uptime: string
  version: string
}

export interface ShowProc {
  master: ProcessEntry & {
    /** Failed reloads since the last successful one (HAProxy resets it on success). */
    failed_reloads: number
  }
  /** Workers of the current configuration (normally one). */
  workers: ProcessEntry[]
  /** Soft-stopping workers of earlier configurations, still finishing connections. */
  old_workers: ProcessEntry[]
}

/**
 * Parses the master CLI's `show proc`:
 * ```
 * #<PID>          <type>          <reloads>       <uptime>        <version>
 * 5178            master          2 [failed: 1]   0d00h00m29s     2.6.12-1+deb12u4
 * # workers
 * 6546            worker          1               0d00h00m02s     2.6.12-1+deb12u4
 * # old workers
 * 5179            worker          2               0d00h00m29s     2.6.12-1+deb12u4
 * # programs
 * ```
 */
export function parseShowProc(text: string): ShowProc {
  let master: ShowProc['master'] | undefined
  const workers: ProcessEntry[] = []
  const oldWorkers: ProcessEntry[] = []
  let group: 'master' | 'workers' | 'old' | 'programs' = 'master'
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line.length === 0 || line.startsWith('#<')) continue
    if (line.startsWith('#')) {
      const title = line.slice(1).trim()
      group = title === 'workers' ? 'workers' : title === 'old workers' ? 'old' : 'programs'
      continue
    }
    const masterMatch = /^(\d+)\s+master\s+(\d+)\s+\[failed:\s*(\d+)\]\s+(\S+)\s*(\S*)/.exec(line)
    if (masterMatch) {
      master = {
        pid: Number(masterMatch[1]),
        reloads: Number(masterMatch[2]),
        failed_reloads: Number(masterMatch[3]),
        uptime: masterMatch[4],
        version: masterMatch[5],
      }
      continue
    }
    const workerMatch = /^(\d+)\s+worker\s+(\d+)\s+(\S+)\s*(\S*)/.exec(line)
    if (workerMatch && (group === 'workers' || group === 'old')) {
      const entry = {pid: Number(workerMatch[1]), reloads: Number(workerMatch[2]), uptime: workerMatch[3], version: workerMatch[4]}
      ;(group === 'workers' ? workers : oldWorkers).push(entry)
    }
  }
  if (!master) throw badOutput('show proc', 'there is no master line')
  return {master, workers, old_workers: oldWorkers}
}
