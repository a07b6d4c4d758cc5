/**
 * `lbaas doctor`: prerequisites and host limits, each problem with its fix.
 */
import {existsSync, statSync} from 'node:fs'

import {haproxyAccount} from '../host/haproxy-process.js'
import {checkKernelFeatures, probeProgram, readFdLimit, safeMaxConn, type PrerequisiteCheck} from '../host/limits.js'
import {openStore} from '../store/db.js'
import {recordedHostLimits, recordHostLimits} from '../store/host-limits.js'
import type {Certificate} from '../domain/types.js'
import {EXPIRY_WARNING_DAYS} from '../tls/certificate.js'

export interface DoctorReport {
  ok: boolean
  /** The largest `connection_limit` a VIP may have on this host. */
  max_connection_limit: number
  checks: PrerequisiteCheck[]
}

function privatePath(name: string, path: string, expectedMode: number, kind: 'file' | 'directory'): PrerequisiteCheck {
  if (!existsSync(path)) return {name, status: 'ok', detail: `${path} does not exist yet; lbaas creates it ${expectedMode.toString(8)}`}
  const stat = statSync(path)
  const mode = stat.mode & 0o777
  if (kind === 'directory' && !stat.isDirectory()) {
    return {name, status: 'error', detail: `${path} is not a directory`, fix: 'choose another --run-dir'}
  }
  if ((mode & 0o077) !== 0) {
    return {name, status: 'error', detail: `${path} is mode ${mode.toString(8)}: other users can read it`, fix: `chmod ${expectedMode.toString(8)} ${path}`}
  }
  if (stat.uid !== process.getuid?.()) {
    return {name, status: 'warning', detail: `${path} belongs to uid ${stat.uid}, not to this user`, fix: `chown ${process.getuid?.()} ${path}`}
  }
  return {name, status: 'ok', detail: `${path} is mode ${mode.toString(8)}`}
}

/** A program that is present (it ran, whatever its exit code), with its first line of output. */
async function checkProgram(name: string, argv: string[], fix: string, showOutput = true): Promise<PrerequisiteCheck> {
  const probe = await probeProgram(argv)
  if (!probe.present) return {name, status: 'warning', detail: probe.error, fix}
  return {name, status: 'ok', detail: (showOutput && probe.firstLine) || `${argv[0]} is installed`}
}

function describeLimit(limit: number): string {
  return limit === Infinity ? 'unlimited' : String(limit)
}

/**
 * The host limit rendering uses (SPEC §4.5 "Deterministic"): recorded in the state file when
 * it exists (first use records it; `recordLimits` replaces it with this process's), and
 * checked against this process's own hard limit, which HAProxy started from here inherits.
 */
function hostLimitsCheck(statePath: string, recordLimits: boolean): {check: PrerequisiteCheck; openFiles: number} {
  const own = readFdLimit().hard
  if (!recordLimits && !existsSync(statePath)) {
    return {
      check: {name: 'recorded host limit', status: 'ok', detail: `none yet: the first command that needs it records this process's hard limit ${describeLimit(own)}`},
      openFiles: own,
    }
  }
  const store = openStore(statePath)
  try {
    const recorded = store.write(() => {
      recordHostLimits(store.db, own, recordLimits)
      return recordedHostLimits(store.db)!
    })
    const maxconn = safeMaxConn(recorded.openFilesHard)
    const detail = `open-file hard limit ${describeLimit(recorded.openFilesHard)} (recorded ${recorded.recordedAt}): HAProxy maxconn ${maxconn}`
    if (safeMaxConn(own) < maxconn) {
      return {
        check: {
          name: 'recorded host limit',
          status: 'warning',
          detail: `${detail}; this process's hard limit ${describeLimit(own)} cannot start HAProxy with it`,
          fix: `run lbaas with ulimit -Hn ${describeLimit(recorded.openFilesHard)}, or record this limit: lbaas doctor --record-limits`,
        },
        openFiles: recorded.openFilesHard,
      }
    }
    return {check: {name: 'recorded host limit', status: 'ok', detail}, openFiles: recorded.openFilesHard}
  } finally {
    store.close()
  }
}

/** Whether the state file exists (doctor reads certificates from it, but never creates it). */
export function stateFileExists(path: string): boolean {
  return existsSync(path)
}

/** SPEC §9: certificates expiring within 30 days (or expired) are a warning with the renewal command. */
export function certificateExpiryChecks(certificates: readonly Certificate[]): PrerequisiteCheck[] {
  const expiring = certificates.filter((certificate) => certificate.days_left < EXPIRY_WARNING_DAYS)
  if (certificates.length === 0) return []
  if (expiring.length === 0) {
    return [{name: 'certificates', status: 'ok', detail: `${certificates.length} certificate(s), none expires within ${EXPIRY_WARNING_DAYS} days`}]
  }
  return expiring.map((certificate) => ({
    name: `certificate ${certificate.name}`,
    status: 'warning' as const,
    detail:
      certificate.days_left < 0
        ? `expired on ${certificate.not_after} (used by ${certificate.used_by.length} VIP(s))`
        : `expires in ${certificate.days_left} days (${certificate.not_after}; used by ${certificate.used_by.length} VIP(s))`,
    fix: `lbaas cert update ${certificate.name} --cert NEW.crt --key NEW.key [--chain CHAIN.pem]`,
  }))
}

export async function doctor(options: {statePath: string; runDir: string; recordLimits?: boolean; certificates?: readonly Certificate[]}): Promise<DoctorReport> {
  const checks = await checkKernelFeatures()
  const limits = hostLimitsCheck(options.statePath, options.recordLimits ?? false)
  const account = haproxyAccount()
  checks.push(
    account.user === 'haproxy'
      ? {name: 'haproxy account', status: 'ok', detail: 'HAProxy workers drop privileges to user haproxy, group haproxy'}
      : {name: 'haproxy account', status: 'warning', detail: `no haproxy user: workers run as ${account.user}:${account.group}`, fix: 'apt-get install haproxy creates the haproxy user'},
    await checkProgram('gearmand (for serve-worker)', ['gearmand', '--version'], 'apt-get install gearman-job-server'),
    await checkProgram('gearman CLI (for serve-worker)', ['gearman', '-H'], 'apt-get install gearman-tools', false),
    privatePath('state file', options.statePath, 0o600, 'file'),
    privatePath('run dir', options.runDir, 0o700, 'directory'),
    limits.check,
    ...certificateExpiryChecks(options.certificates ?? []),
  )
  return {
    ok: checks.every((check) => check.status !== 'error'),
    max_connection_limit: safeMaxConn(limits.openFiles),
    checks,
  }
}
