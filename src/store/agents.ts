/**
 * What a controller remembers about its agents (SPEC §6): when each last answered DISCOVER
 * and with what, and pools to remove from an agent that was unreachable when the pool
 * moved away from it. Call the writers inside `store.write`.
 */
import type {Db} from './db.js'

export interface AgentRow {
  name: string
  version: string | null
  /** ISO time of the last DISCOVER answer. */
  last_seen: string | null
  /** JSON of that answer. */
  info: string | null
}

export function listAgentRows(db: Db): AgentRow[] {
  return db.prepare('SELECT name, version, last_seen, info FROM agents ORDER BY name').all() as AgentRow[]
}

export function getAgentRow(db: Db, name: string): AgentRow | undefined {
  return db.prepare('SELECT name, version, last_seen, info FROM agents WHERE name = ?').get(name) as AgentRow | undefined
}

export function saveAgentRow(db: Db, row: AgentRow): void {
  db.prepare(
    `INSERT INTO agents (name, version, last_seen, info) VALUES (@name, @version, @last_seen, @info)
     ON CONFLICT (name) DO UPDATE SET version = excluded.version, last_seen = excluded.last_seen, info = excluded.info`,
  ).run(row)
}

/** Agent names pools of this state file are placed on (not `local`), with how many pools each. */
export function poolCountsByAgent(db: Db): Map<string, number> {
  const rows = db.prepare(`SELECT agent, count(*) AS pools FROM pools WHERE agent <> 'local' GROUP BY agent`).all() as {
    agent: string
    pools: number
  }[]
  return new Map(rows.map((row) => [row.agent, row.pools]))
}

export function addPendingUndeploy(db: Db, agent: string, poolId: string): void {
  db.prepare('INSERT OR IGNORE INTO agent_pending_undeploys (agent, pool_id) VALUES (?, ?)').run(agent, poolId)
}

export function pendingUndeploys(db: Db, agent: string): string[] {
  return db.prepare('SELECT pool_id FROM agent_pending_undeploys WHERE agent = ? ORDER BY rowid').pluck().all(agent) as string[]
}

export function removePendingUndeploy(db: Db, agent: string, poolId: string): void {
  db.prepare('DELETE FROM agent_pending_undeploys WHERE agent = ? AND pool_id = ?').run(agent, poolId)
}

/** Agents with pools still to remove from them (pools deleted or moved while they were unreachable). */
export function agentsWithPendingUndeploys(db: Db): string[] {
  return db.prepare('SELECT DISTINCT agent FROM agent_pending_undeploys ORDER BY agent').pluck().all() as string[]
}

/** What an agent answered after deploying a pool: the hash of the configuration it runs (null: not running). */
export interface DeployedConfig {
  agent: string
  config_hash: string | null
}

/**
 * One record per pool and agent: an HA pool's two peers each run their own configuration.
 * `soleAgent`: a plain pool runs on this agent only, so records of agents it left go.
 */
export function recordDeployedConfig(db: Db, poolId: string, deployed: DeployedConfig, options: {soleAgent?: boolean} = {}): void {
  if (options.soleAgent) db.prepare('DELETE FROM agent_deployed_configs WHERE pool_id = ? AND agent <> ?').run(poolId, deployed.agent)
  db.prepare(
    `INSERT INTO agent_deployed_configs (pool_id, agent, config_hash) VALUES (?, ?, ?)
     ON CONFLICT (pool_id, agent) DO UPDATE SET config_hash = excluded.config_hash`,
  ).run(poolId, deployed.agent, deployed.config_hash)
}

/** What each agent answered for a pool: `lookup(poolId, agent)`. */
export function deployedConfigs(db: Db): {lookup(poolId: string, agent: string): DeployedConfig | undefined} {
  const rows = db.prepare('SELECT pool_id, agent, config_hash FROM agent_deployed_configs').all() as ({pool_id: string} & DeployedConfig)[]
  const byKey = new Map(rows.map(({pool_id, ...deployed}) => [`${pool_id} ${deployed.agent}`, deployed]))
  return {lookup: (poolId, agent) => byKey.get(`${poolId} ${agent}`)}
}

/** Forgets what `agent` runs for the pool (not what another agent it moved to runs). */
export function forgetDeployedConfig(db: Db, poolId: string, agent: string): void {
  db.prepare('DELETE FROM agent_deployed_configs WHERE pool_id = ? AND agent = ?').run(poolId, agent)
}

/** Forgets an agent: its row and the undeploys still owed to it (the demo's own agents, when it has removed them). */
export function forgetAgentRow(db: Db, name: string): void {
  db.prepare('DELETE FROM agent_pending_undeploys WHERE agent = ?').run(name)
  db.prepare('DELETE FROM agents WHERE name = ?').run(name)
}
