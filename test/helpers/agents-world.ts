/**
 * A controller and two agents on this host, for one integration test file (SPEC §6, §11): a
 * private gearmand, two `serve-worker` processes `a` and `b` with their own state files,
 * run dirs and function names (two hosts), the CLI with LBAAS_GEARMAN_SERVERS as the
 * controller, and a lab on a claimed /24 (trafficLab). agentsWorld() registers the file's
 * beforeAll (start all that) and afterAll (the controller deletes its VIPs and pools, the
 * agents stop, whatever an agent left of a pool it hosted is removed, then the lab, gearmand
 * and the agent dirs go).
 */
import {existsSync} from 'node:fs'
import {join} from 'node:path'

import Database from 'better-sqlite3'
import {afterAll, beforeAll} from 'vitest'

import {stopHaproxy} from '../../src/host/haproxy-process.js'
import {poolPaths} from '../../src/host/names.js'
import {deleteNamespace, namespaceExists} from '../../src/host/netns.js'
import {Gearmand} from '../integration/gearman/gearmand-process.js'
import {ServeWorkerProcess} from '../integration/worker/serve-worker-process.js'
import {cliFor, type CliOptions} from './cli.js'
import {tempDir} from './tmp.js'
import {trafficLab, type LabInfo} from './traffic-lab.js'
import {uniqueSuffix} from './unique.js'

export type AgentKey = 'a' | 'b'
type Cli = ReturnType<typeof cliFor>
export const AGENT_KEYS = ['a', 'b'] as const

export interface AgentsWorldOptions {
  /** trafficLab label: names the controller's temp dir and lab. */
  label: string
  /** Prefix of the agents' function names (`<prefix>-a-<suffix>`) and temp dirs (`<prefix>-agent-a-`). */
  prefix: string
  /** Backends of the lab. */
  backends: number
  /** Start stopped agents again before cleaning up, so the controller can remove its pools from them. */
  reviveAgentsForCleanup?: boolean
  /** The file's own clean-up, after the agents stopped and before the lab goes. */
  cleanup?: () => Promise<void>
}

export type AgentsWorld = ReturnType<typeof agentsWorld>

export function agentsWorld(options: AgentsWorldOptions) {
  const world = trafficLab(options.label)
  const suffix = uniqueSuffix()
  const names: Record<AgentKey, string> = {a: `${options.prefix}-a-${suffix}`, b: `${options.prefix}-b-${suffix}`}
  const dirs = {a: tempDir(`${options.prefix}-agent-a-`), b: tempDir(`${options.prefix}-agent-b-`)}
  const workers: Partial<Record<AgentKey, ServeWorkerProcess>> = {}
  let gearmand: Gearmand | undefined
  let controllerCli: Cli | undefined
  let lab: LabInfo | undefined
  const ready = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`agentsWorld: ${what} is there only once beforeAll has run`)
    return value
  }

  /** The ids of the pools an agent's state file holds. */
  function hostedPoolIds(key: AgentKey): string[] {
    const statePath = `${dirs[key].path}/state.db`
    if (!existsSync(statePath)) return []
    const db = new Database(statePath, {readonly: true})
    try {
      return db.prepare('SELECT id FROM pools').pluck().all() as string[]
    } finally {
      db.close()
    }
  }

  const self = {
    world,
    suffix,
    names,
    dirs,
    workers,
    get gearmand(): Gearmand {
      return ready(gearmand, 'gearmand')
    },
    /**
     * The CLI as the controller (this file's state file, LBAAS_GEARMAN_SERVERS at the
     * gearmand); a stable object, to use from beforeAll on (it needs gearmand's port).
     */
    controller: {
      statePath: join(world.dir, 'state.db'),
      run: (args: readonly string[], options?: CliOptions) => ready(controllerCli, 'the controller').run(args, options),
      json: <T = unknown>(args: readonly string[]) => ready(controllerCli, 'the controller').json<T>(args),
      value: (args: readonly string[]) => ready(controllerCli, 'the controller').value(args),
    },
    get lab(): LabInfo {
      return ready(lab, 'the lab')
    },
    /** The CLI on an agent's own state file and run dir (what runs on that host). */
    agentCli: (key: AgentKey) => cliFor(dirs[key].path),

    async startAgent(key: AgentKey): Promise<void> {
      workers[key] = await ServeWorkerProcess.start({dir: dirs[key].path, ports: [self.gearmand.port], functionName: names[key]})
    },

    /** What a dead host loses: the HAProxy and namespace of every pool its agent hosted (this file's pools only). */
    async removeHostedLeftovers(key: AgentKey): Promise<void> {
      for (const poolId of hostedPoolIds(key)) {
        // Only an HAProxy its identity record proves is this entry's (SPEC §4.7): a pid file
        // left by one killed long ago may name a recycled PID, another test's process.
        await stopHaproxy(poolPaths(`${dirs[key].path}/run`, poolId)).catch(() => undefined)
        if (namespaceExists(`lbaas-${poolId}`) && world.poolIds.has(poolId)) await deleteNamespace(`lbaas-${poolId}`).catch(() => undefined)
      }
    },
  }

  beforeAll(async () => {
    gearmand = await Gearmand.start()
    controllerCli = cliFor(world.dir, {LBAAS_GEARMAN_SERVERS: `127.0.0.1:${gearmand.port}`})
    lab = await world.lab(options.backends)
    // One at a time: on a loaded machine two starting workers can miss the registration deadline.
    for (const key of AGENT_KEYS) await self.startAgent(key)
  })

  afterAll(async () => {
    try {
      if (controllerCli) {
        const controller = controllerCli
        if (options.reviveAgentsForCleanup) {
          for (const key of AGENT_KEYS) if (!workers[key]?.running) await self.startAgent(key).catch(() => undefined)
        }
        const vips = (await controller.run(['vip', 'list', '-f', 'value', '-c', 'id'])).stdout.split('\n').filter(Boolean)
        for (const id of vips) await controller.run(['vip', 'delete', id, '--yes'])
        const poolIds = (await controller.run(['pool', 'list', '-f', 'value', '-c', 'id'])).stdout.split('\n').filter(Boolean)
        for (const id of poolIds) await controller.run(['pool', 'delete', id, '--yes'])
      }
      for (const worker of Object.values(workers)) await worker?.stop()
      for (const key of AGENT_KEYS) await self.removeHostedLeftovers(key)
      await options.cleanup?.()
    } finally {
      await world.cleanup()
      await gearmand?.stop()
      for (const dir of Object.values(dirs)) dir.cleanup()
    }
  })

  return self
}
