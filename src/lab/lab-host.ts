/**
 * The host side of `lbaas lab` (SPEC §7): throw-away backend "hosts", each a `lab-`
 * namespace plugged into the lab's bridge and running the HTTP server of backend.ts.
 *
 * A backend's control dir (mode 0700) holds `backend.pid` (`PID STARTTIME`), `backend.identity`
 * (identity.ts: what proves the server is ours), `backend.log`,
 * `listening` (written by the server once it accepts connections) and, while the operator
 * wants it to fail its health check, `unhealthy`.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import {existsSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'
import {InternalError, RuntimeFailure} from '../domain/errors.js'
import {canonicalAddress} from '../domain/ip.js'
import {assertOwnedNamespace, LAB_INTERFACE, LAB_LINK_PREFIX} from '../host/names.js'
import {checkRecorded, observeProcess, recordIdentity, sameProgram} from '../host/identity.js'
import {namespaceExists} from '../host/netns.js'
import {plugInterface, unplugNamespace, type PlugResult} from '../host/plug.js'
import {findProcesses, identityOf, isAlive, readPidFile, terminate, writePidFile} from '../host/proc.js'
import {run, spawnDetached} from '../host/run.js'
import {makePrivateDirs} from '../util/fs.js'

export interface BackendSpec {
  /** `lab-…` (see names.ts `labBackendNames`); tests may use `lbt…`. */
  namespace: string
  /** Root-side veth end; derived from a `lab-<8 hex>-<n>` namespace when omitted. */
  hostLink?: string
  /** The lab subnet's bridge (it must exist). */
  bridge: string
  address: string
  prefixLength: number
  /** The lab subnet's gateway (the bridge's address in the root namespace). */
  gateway?: string | null
  /** What the server answers with. */
  name: string
  port: number
  controlDir: string
  tls?: {certFile: string; keyFile: string}
  /** The compiled server; default: backend.js beside this module (dist/src/lab/). */
  script?: string
  /** How long to wait for the server to listen; default 5000 ms. */
  readyTimeoutMs?: number
  /** Owner tag for the host link's alias (names.ts `ownerTag`). */
  owner?: string
}

export interface StartedBackend {
  pid: number
  /** False when a live backend was already recorded in the control dir and was kept. */
  started: boolean
  plug: PlugResult
}

const DEFAULT_SCRIPT = fileURLToPath(new URL('./backend.js', import.meta.url))
const LAB_NAMESPACE = /^lab-([0-9a-f]{8})-(\d{1,4})$/

const controlFiles = (controlDir: string) => ({
  pid: `${controlDir}/backend.pid`,
  identity: `${controlDir}/backend.identity`,
  log: `${controlDir}/backend.log`,
  listening: `${controlDir}/listening`,
  unhealthy: `${controlDir}/unhealthy`,
})

/** `lbl<8 hex><n>` for `lab-<8 hex>-<n>`, as names.ts `labBackendNames` builds them. */
export function labHostLinkFor(namespace: string): string {
  const match = LAB_NAMESPACE.exec(namespace)
  if (!match) {
    throw new InternalError(`cannot derive a host link from namespace ${JSON.stringify(namespace)}; pass hostLink`)
  }
  return `${LAB_LINK_PREFIX}${match[1]}${match[2]}`
}


/** The recorded server, when it is provably ours (SPEC §4.7): `running`, or `detached` from a namespace deleted under it. */
function recordedBackend(controlDir: string): {pid: number; startTime: number; detached: boolean} | undefined {
  const {record, verdict} = checkRecorded(controlFiles(controlDir).identity)
  if (!record || (verdict.state !== 'running' && verdict.state !== 'detached')) return undefined
  return {pid: record.pid, startTime: record.start_time, detached: verdict.state === 'detached'}
}

/**
 * Servers of this control dir that no identity record names: a Node program given this
 * `--control-dir` (a 0700 directory of lbaas's), started before its identity was written or
 * by an lbaas that wrote none. Any `node` binary counts, not only this one: the server may
 * predate a Node upgrade. Its port is this backend's: it is stopped before another starts.
 */
function unrecordedServers(controlDir: string, recordedPid: number | undefined) {
  const isNode = (exe: string | undefined) => sameProgram(exe, process.execPath) || /\/node(?: \(deleted\))?$/.test(exe ?? '')
  return findProcesses((argv) => argv.includes('--control-dir') && argv[argv.indexOf('--control-dir') + 1] === controlDir).filter(
    (stray) => stray.pid !== recordedPid && isNode(observeProcess(stray.pid)?.exe),
  )
}

function logTail(logFile: string): string {
  try {
    return readFileSync(logFile, 'utf8').trim().split('\n').slice(-5).join('\n')
  } catch {
    return ''
  }
}

/**
 * Plugs the backend namespace into the lab bridge (creating it; repairing it when it
 * exists) and starts the server inside it, detached, with its log in the control dir.
 * Resolves with the server's PID once it listens. Idempotent: a live backend already
 * recorded in the control dir and running in that namespace is kept (its plug is still
 * repaired). Throws RuntimeFailure
 * `lab_backend_failed` (with the end of its log) when the server exits or does not listen
 * in time, `lab_backend_missing` when the compiled server is not there. A server of this
 * control dir that no identity record names is stopped first: it holds the port.
 */
export async function startBackend(spec: BackendSpec): Promise<StartedBackend> {
  assertOwnedNamespace(spec.namespace)
  const address = canonicalAddress(spec.address)
  if (!address) throw new InternalError(`${JSON.stringify(spec.address)} is not an address`)
  const script = spec.script ?? DEFAULT_SCRIPT
  if (!existsSync(script)) {
    throw new RuntimeFailure('lab_backend_missing', `the lab backend server ${script} is missing`, 'build the CLI with `npm run build`')
  }
  const files = controlFiles(spec.controlDir)
  makePrivateDirs(spec.controlDir)

  const plug = await plugInterface({
    namespace: spec.namespace,
    hostLink: spec.hostLink ?? labHostLinkFor(spec.namespace),
    innerLink: LAB_INTERFACE,
    bridge: spec.bridge,
    address: address.address,
    prefixLength: spec.prefixLength,
    gateway: spec.gateway,
    family: address.family,
    owner: spec.owner,
  })
  const running = recordedBackend(spec.controlDir)
  if (running && !running.detached) return {pid: running.pid, started: false, plug}
  // A recorded server outside the (re-created) namespace is unreachable: replace it.
  if (running) await terminate(running.pid, {startTime: running.startTime, graceMs: 2_000})
  for (const stray of unrecordedServers(spec.controlDir, running?.pid)) await terminate(stray.pid, {startTime: stray.startTime, graceMs: 2_000})

  rmSync(files.listening, {force: true})
  const argv = [process.execPath, script, '--name', spec.name, '--port', String(spec.port), '--control-dir', spec.controlDir]
  if (spec.tls) argv.push('--tls-cert', spec.tls.certFile, '--tls-key', spec.tls.keyFile)
  const pid = await spawnDetached(argv, {netns: spec.namespace, logFile: files.log})
  const identity = identityOf(pid)
  if (identity) writePidFile(files.pid, identity)

  const deadline = performance.now() + (spec.readyTimeoutMs ?? 5_000)
  for (;;) {
    // Recorded once it listens: by then `ip netns exec` has become the server (same PID and start time).
    if (readPidFile(files.listening)?.pid === pid && recordIdentity(files.identity, pid, {run_path: spec.controlDir, namespace: spec.namespace})) {
      return {pid, started: true, plug}
    }
    if (!isAlive(pid, identity?.startTime)) {
      rmSync(files.pid, {force: true})
      rmSync(files.identity, {force: true})
      throw new RuntimeFailure('lab_backend_failed', `lab backend ${spec.name} exited at start:\n${logTail(files.log)}`)
    }
    if (performance.now() >= deadline) {
      await terminate(pid, {startTime: identity?.startTime, graceMs: 1_000})
      rmSync(files.pid, {force: true})
      throw new RuntimeFailure('lab_backend_failed', `lab backend ${spec.name} did not listen on port ${spec.port} in time:\n${logTail(files.log)}`)
    }
    await sleep(5)
  }
}

export interface StopBackendSpec {
  namespace: string
  controlDir: string
  /** Root-side veth end; derived from a `lab-<8 hex>-<n>` namespace when omitted. */
  hostLink?: string
}

/**
 * Stops the backend's server (SIGTERM, then SIGKILL) and removes its namespace and veth
 * (plug.ts `unplugNamespace`). Finds the server by its pid file, or, when that is lost, by a
 * command line naming the control dir. Idempotent. Leaves the control dir (and its log).
 */
export async function stopBackend(spec: StopBackendSpec): Promise<{stopped: boolean; namespaceDeleted: boolean}> {
  assertOwnedNamespace(spec.namespace)
  const files = controlFiles(spec.controlDir)
  let stopped = false
  const recorded = recordedBackend(spec.controlDir)
  if (recorded) stopped = (await terminate(recorded.pid, {startTime: recorded.startTime, graceMs: 2_000})) !== 'not-running'
  for (const stray of unrecordedServers(spec.controlDir, recorded?.pid)) {
    stopped = (await terminate(stray.pid, {startTime: stray.startTime, graceMs: 2_000})) !== 'not-running' || stopped
  }
  rmSync(files.pid, {force: true})
  rmSync(files.identity, {force: true})
  rmSync(files.listening, {force: true})
  const namespaceDeleted = await unplugNamespace(spec.namespace, spec.hostLink ?? labHostLinkFor(spec.namespace))
  return {stopped, namespaceDeleted}
}

/** Makes the backend answer `/healthz` with 200 (healthy) or 500. Takes effect on the next request. */
export function setBackendHealth(controlDir: string, healthy: boolean): void {
  const flag = controlFiles(controlDir).unhealthy
  if (healthy) rmSync(flag, {force: true})
  else writeFileSync(flag, 'set by lbaas lab\n', {mode: 0o600})
}

export interface BackendStatus {
  namespace: string
  namespaceExists: boolean
  running: boolean
  pid?: number
  /** Whether `/healthz` answers 200 (the control switch, not a probe). */
  healthy: boolean
  /** The server reported that it listens. */
  listening: boolean
}

export function backendStatus(spec: StopBackendSpec): BackendStatus {
  assertOwnedNamespace(spec.namespace)
  const files = controlFiles(spec.controlDir)
  const recorded = recordedBackend(spec.controlDir)
  return {
    namespace: spec.namespace,
    namespaceExists: namespaceExists(spec.namespace),
    running: recorded !== undefined && !recorded.detached,
    pid: recorded?.pid,
    healthy: !existsSync(files.unhealthy),
    listening: recorded !== undefined && readPidFile(files.listening)?.pid === recorded.pid,
  }
}


/** A throw-away self-signed certificate for HTTPS lab backends in `dir`, made once (openssl). */
export async function ensureLabCertificate(dir: string): Promise<{certFile: string; keyFile: string}> {
  const files = {certFile: `${dir}/cert.pem`, keyFile: `${dir}/key.pem`}
  if (existsSync(files.certFile) && existsSync(files.keyFile)) return files
  makePrivateDirs(dir)
  await run(
    ['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=lbaas-lab',
      '-keyout', files.keyFile, '-out', files.certFile],
    {timeoutMs: 30_000, what: 'creating the lab TLS certificate'},
  )
  return files
}
