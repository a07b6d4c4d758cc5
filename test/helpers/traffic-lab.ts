/**
 * One traffic test file's world: its own state file and run dir, lab subnets on claimed
 * /24s (`lbaas lab up`), optional recording backends (recording-backend.mjs) on a lab's
 * bridge, helpers that read the pool's HAProxy through its master and stats sockets, and a
 * cleanup that removes everything the file created (VIPs, pools, monitors, labs, backends)
 * and then checks that no namespace of its own is left (it removes and reports any).
 */
import {existsSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

import type {Member, Monitor, Pool, Vip} from '../../src/domain/types.js'
import {showProc, showStat} from '../../src/haproxy/runtime.js'
import type {ShowProc, ShowStat} from '../../src/haproxy/stats.js'
import {masterIdentity, runningMaster, stopHaproxy} from '../../src/host/haproxy-process.js'
import {deleteBridge, linkExists} from '../../src/host/links.js'
import {poolPaths, type PoolPaths} from '../../src/host/names.js'
import {deleteNamespace, listNamespaces} from '../../src/host/netns.js'
import {findProcesses, readProcessStat, terminate} from '../../src/host/proc.js'
import {run} from '../../src/host/run.js'
import {startBackend, stopBackend} from '../../src/lab/lab-host.js'
import {cliFor} from './cli.js'
import {tempDir} from './tmp.js'
import {claimTestCidr, uniqueSuffix} from './unique.js'

const RECORDING_BACKEND = fileURLToPath(new URL('./recording-backend.mjs', import.meta.url))

export interface LabInfo {
  subnet: string
  subnetId: string
  bridge: string
  cidr: string
  /** First three octets, e.g. `198.18.42`. */
  base: string
  /** Lab backend n (1-based): its name (what `X-Backend` says) and address. */
  backend(n: number): {name: string; address: string}
}

export interface RecordingBackend {
  name: string
  address: string
  controlDir: string
  /** The requests it received, oldest first. */
  requests(): {method: string; url: string}[]
  /** Makes answers set `cookie` for new sessions ('' stops it). */
  setCookieName(cookie: string): void
}

export type TrafficLab = ReturnType<typeof trafficLab>

/** Synchronous, so a test file can create it at module scope and always clean it up in afterAll. */
export function trafficLab(label: string) {
  const suffix = uniqueSuffix(6)
  const dir = tempDir(`lbt-${label}-`)
  const cli = cliFor(dir.path)
  const runDir = `${dir.path}/run`
  const claims: {release: () => void}[] = []
  const labs: LabInfo[] = []
  const poolIds = new Set<string>()
  const recorders: {namespace: string; hostLink: string; controlDir: string}[] = []

  const self = {
    dir: dir.path,
    runDir,
    cli,
    suffix,
    labs,

    /** `lbaas lab up` on a fresh claimed /24. */
    async lab(backends: number, options: {tls?: boolean} = {}): Promise<LabInfo> {
      const claim = claimTestCidr()
      claims.push(claim)
      const subnet = `t${suffix}${labs.length}`
      const args = ['lab', 'up', '--subnet', subnet, '--cidr', claim.cidr, '--backends', String(backends), '--json']
      if (options.tls) args.push('--tls')
      await cli.json(args)
      const shown = await cli.json<{id: string; bridge: string}>(['subnet', 'show', subnet, '--json'])
      const info: LabInfo = {
        subnet,
        subnetId: shown.id,
        bridge: shown.bridge,
        cidr: claim.cidr,
        base: claim.base,
        backend: (n) => ({name: `${subnet}-${n}`, address: `${claim.base}.${10 + n}`}),
      }
      labs.push(info)
      return info
    },

    /** A recording backend at `<base>.<200+n>:8000` on the lab's bridge. */
    async recorder(lab: LabInfo, n: number): Promise<RecordingBackend> {
      const namespace = `lbt${suffix}r${n}`
      const hostLink = `lbt${suffix}q${n}`
      const controlDir = `${dir.path}/rec-${n}`
      const name = `rec-${n}`
      const address = `${lab.base}.${200 + n}`
      recorders.push({namespace, hostLink, controlDir})
      await startBackend({
        namespace,
        hostLink,
        bridge: lab.bridge,
        address,
        prefixLength: 24,
        gateway: `${lab.base}.1`,
        name,
        port: 8000,
        controlDir,
        script: RECORDING_BACKEND,
      })
      return {
        name,
        address,
        controlDir,
        requests: () =>
          existsSync(`${controlDir}/requests.log`)
            ? readFileSync(`${controlDir}/requests.log`, 'utf8')
                .split('\n')
                .filter(Boolean)
                .map((line) => JSON.parse(line) as {method: string; url: string})
            : [],
        setCookieName: (cookie: string) => writeFileSync(`${controlDir}/cookie`, cookie),
      }
    },

    async pool(name: string, protocol: string, method: string, lab: LabInfo): Promise<Pool> {
      const pool = await cli.json<Pool>(['pool', 'create', '--name', name, '--subnet', lab.subnet, '--protocol', protocol, '--lb-method', method, '--json'])
      poolIds.add(pool.id)
      return pool
    },

    async member(pool: string, address: string, extra: string[] = []): Promise<Member> {
      return cli.json<Member>(['member', 'create', pool, '--address', address, '--protocol-port', '8000', ...extra, '--json'])
    },

    async monitor(args: string[]): Promise<Monitor> {
      return cli.json<Monitor>(['monitor', 'create', ...args, '--json'])
    },

    async vip(pool: string, name: string, protocol: string, port: number, lab: LabInfo, address: string, extra: string[] = []): Promise<Vip> {
      return cli.json<Vip>([
        'vip', 'create', pool, '--name', name, '--protocol', protocol, '--protocol-port', String(port),
        '--subnet', lab.subnet, '--address', address, ...extra, '--json',
      ])
    },

    paths(poolId: string): PoolPaths {
      return poolPaths(runDir, poolId)
    },

    config(poolId: string): string {
      return readFileSync(self.paths(poolId).config, 'utf8')
    },

    /** The master's `show proc`: reload count, current and old workers. */
    proc(poolId: string): Promise<ShowProc> {
      return showProc(self.paths(poolId).masterSocket, {timeoutMs: 3_000, connectRetryMs: 2_000})
    },

    stat(poolId: string): Promise<ShowStat> {
      return showStat(self.paths(poolId).statsSocket, {timeoutMs: 3_000})
    },

    /** What the host shows of a pool, for a failure message: its run-dir entry, HAProxy, namespace and sync's plan. */
    async explain(poolId: string): Promise<string> {
      const paths = self.paths(poolId)
      const {record, verdict} = masterIdentity(paths)
      const loading = findProcesses((argv) => argv.includes(paths.config)).map((found) => `${found.pid} ${found.argv[0]}`)
      const addresses = await run(['ip', '-o', '-4', 'addr', 'show'], {netns: `lbaas-${poolId}`, allowFailure: true, timeoutMs: 5_000})
      const plan = await cli.run(['sync', '--dry-run', '--json'])
      return [
        `pool ${poolId}: run-dir entry [${existsSync(paths.dir) ? readdirSync(paths.dir).join(' ') : 'missing'}]`,
        `recorded master ${record?.pid ?? 'none'}: ${verdict.state}${'reason' in verdict ? ` (${verdict.reason})` : ''}`,
        `processes loading its configuration: ${loading.join(', ') || 'none'}`,
        `namespace addresses: ${addresses.stdout.trim().replaceAll('\n', '; ') || addresses.stderr.trim()}`,
        `sync --dry-run: ${plan.stdout.trim() || plan.stderr.trim()}`,
      ].join('\n  ')
    },

    /** Every pool id this file created (also those since removed from the state file). */
    poolIds,

    async cleanup(): Promise<void> {
      const problems: string[] = []
      const attempt = async (args: string[]) => {
        const result = await cli.run(args)
        if (result.exitCode !== 0) problems.push(`lbaas ${args.join(' ')} exited ${result.exitCode}: ${result.stderr.trim()}`)
      }
      const ids = async (topic: string) => {
        const result = await cli.run([topic, 'list', '-f', 'value', '-c', 'id'])
        return result.exitCode === 0 ? result.stdout.split('\n').filter(Boolean) : []
      }
      try {
        for (const id of await ids('vip')) await attempt(['vip', 'delete', id, '--yes'])
        for (const id of await ids('pool')) {
          poolIds.add(id)
          await attempt(['pool', 'delete', id, '--yes'])
        }
        for (const id of await ids('monitor')) await attempt(['monitor', 'delete', id, '--yes'])
        for (const recorder of recorders) {
          await stopBackend(recorder).catch((error: Error) => problems.push(`recording backend ${recorder.namespace}: ${error.message}`))
        }
        for (const lab of labs) await attempt(['lab', 'down', '--subnet', lab.subnet, '--yes'])

        // Whatever is still there is a leak: remove it, and say so.
        const labPrefixes = labs.map((lab) => `lab-${lab.subnetId.replaceAll('-', '').slice(0, 8)}-`)
        const leftovers = [
          ...listNamespaces('lbaas-').filter((namespace) => poolIds.has(namespace.slice('lbaas-'.length))),
          ...listNamespaces('lab-').filter((namespace) => labPrefixes.some((prefix) => namespace.startsWith(prefix))),
          ...listNamespaces(`lbt${suffix}`),
        ]
        for (const id of poolIds) {
          // Only the HAProxy its identity record proves (SPEC §4.7): a stale pid file may name a recycled PID.
          const master = runningMaster(self.paths(id))
          if (master !== undefined) {
            problems.push(`HAProxy ${master} of pool ${id} was left running`)
            await stopHaproxy(self.paths(id)).catch(() => undefined)
          }
        }
        for (const namespace of leftovers) {
          problems.push(`namespace ${namespace} was left behind`)
          const pids = await run(['ip', 'netns', 'pids', namespace], {allowFailure: true, timeoutMs: 5_000})
          for (const pid of pids.stdout.split('\n').filter(Boolean).map(Number)) {
            const startTime = readProcessStat(pid)?.startTime
            if (startTime !== undefined) await terminate(pid, {graceMs: 500, startTime}).catch(() => undefined)
          }
          await deleteNamespace(namespace).catch(() => undefined)
        }
        // A bridge left with a claimed /24 would clash with the next test to claim it.
        for (const lab of labs) {
          if (!linkExists(lab.bridge)) continue
          problems.push(`bridge ${lab.bridge} was left behind`)
          await deleteBridge(lab.bridge).catch(() => undefined)
        }
      } finally {
        for (const claim of claims) claim.release()
        dir.cleanup()
      }
      if (problems.length > 0) throw new Error(`cleanup of the ${label} traffic test:\n  ${problems.join('\n  ')}`)
    },
  }
  return self
}
