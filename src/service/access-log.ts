/**
 * `lbaas vip logs` (SPEC §10): the access log a VIP's HAProxy keeps in its in-memory ring,
 * parsed, with each line's server (a member id) turned into the member's address.
 */
import {UsageError} from '../domain/errors.js'
import {parseAccessLogLine, type AccessLogEntry} from '../haproxy/access-log.js'
import {followLogRing, readLogRing} from '../host/log-ring.js'
import {listMembers} from '../store/members.js'
import {getPool} from '../store/pools.js'
import type {AppContext} from './context.js'
import {resolveVip} from './resolve.js'

export interface VipLogEntry extends AccessLogEntry {
  /** `address:port` of the member that answered; null when none did or it is gone. */
  member: string | null
}

interface LogSource {
  poolId: string
  describe: (raw: string) => VipLogEntry
}

function logSource(ctx: AppContext, ref: string): LogSource {
  const {db} = ctx.store
  return ctx.store.read(() => {
    const vip = resolveVip(db, ref)
    const pool = getPool(db, vip.pool_id)!
    if (pool.agent !== 'local') {
      throw new UsageError(`VIP ${vip.name} is served by agent ${pool.agent}; its access log is on that host`, `run \`lbaas vip logs ${vip.name}\` there`)
    }
    const members = new Map(listMembers(db, pool.id).map((member) => [member.id, member.address.includes(':') ? `[${member.address}]:${member.protocol_port}` : `${member.address}:${member.protocol_port}`]))
    return {
      poolId: pool.id,
      describe: (raw: string) => {
        const entry = parseAccessLogLine(raw)
        return {...entry, member: entry.server === null ? null : (members.get(entry.server) ?? null)}
      },
    }
  })
}

/** The last `lines` entries (all when undefined), oldest first; empty when HAProxy is not running. */
export async function readVipLog(ctx: AppContext, ref: string, lines?: number): Promise<VipLogEntry[]> {
  const source = logSource(ctx, ref)
  const raw = (await readLogRing(ctx.runDir, source.poolId)) ?? []
  return (lines === undefined ? raw : lines === 0 ? [] : raw.slice(-lines)).map(source.describe)
}

/** Calls `onEntry` for every new line until `signal` aborts (across reloads). */
export async function followVipLog(ctx: AppContext, ref: string, onEntry: (entry: VipLogEntry) => void, signal: AbortSignal): Promise<void> {
  const source = logSource(ctx, ref)
  await followLogRing(ctx.runDir, source.poolId, (raw) => onEntry(source.describe(raw)), signal)
}
