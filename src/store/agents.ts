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
