/**
 * Where the job servers are and how to reach them, read the same way by `serve-worker`
 * (an agent) and by a controller: `--server` values (repeatable, each comma separated) or
 * LBAAS_GEARMAN_SERVERS (comma or space separated HOST:PORT), and TLS files from flags or
 * LBAAS_GEARMAN_TLS_CA/CERT/KEY.
 */
import {loadTlsMaterial, parseServerAddress, type ServerAddress, type TlsFiles} from './connection.js'

export const DEFAULT_JOB_SERVER = '127.0.0.1:4730'

export interface GearmanSettings {
  servers: ServerAddress[]
  tls?: TlsFiles
}

export interface GearmanSettingsInput {
  /** `--server` values; empty or absent: LBAAS_GEARMAN_SERVERS. */
  servers?: readonly string[]
  env: NodeJS.ProcessEnv
  /** Used when neither is given (the worker's 127.0.0.1:4730); absent: no servers. */
  fallback?: string
  /** TLS files given as flags; absent: LBAAS_GEARMAN_TLS_*. */
  tls?: TlsFiles
}

/** Throws UsageError for a bad HOST:PORT or part of the TLS settings, before anything connects. */
export function gearmanSettings(input: GearmanSettingsInput): GearmanSettings {
  const {env} = input
  const texts =
    input.servers && input.servers.length > 0
      ? input.servers.flatMap((entry) => entry.split(','))
      : (env.LBAAS_GEARMAN_SERVERS ?? input.fallback ?? '').split(/[\s,]+/)
  const servers = texts.map((text) => text.trim()).filter(Boolean).map((text) => parseServerAddress(text))
  const given = input.tls ?? {ca: env.LBAAS_GEARMAN_TLS_CA, cert: env.LBAAS_GEARMAN_TLS_CERT, key: env.LBAAS_GEARMAN_TLS_KEY}
  const tls = given.ca || given.cert || given.key ? given : undefined
  // Part of the TLS settings is a usage error here, before anything goes out in plaintext.
  loadTlsMaterial(tls)
  return {servers, tls}
}
