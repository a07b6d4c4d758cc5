/**
 * Named network namespaces (`ip netns`, bind mounts under /run/netns). Only names with one
 * of this tool's prefixes are ever listed, created or deleted (names.ts guards).
 *
 * Existence and listing read /run/netns directly, which is what `ip netns list` does,
 * without starting a process.
 */
import {existsSync, readdirSync, statSync} from 'node:fs'
import {ExternalCommandError} from '../domain/errors.js'
import {ipBatch} from './ip-batch.js'
import {assertOwnedNamespace, assertOwnedPrefix, NETNS_DIR} from './names.js'

export {NETNS_DIR}
import {run} from './run.js'


export function namespaceExists(name: string): boolean {
  return existsSync(`${NETNS_DIR}/${assertOwnedNamespace(name)}`)
}

/**
 * True when process `pid` runs in the named namespace (same namespace inode), e.g. to tell
 * a recorded process from one left in a namespace that was deleted and re-created.
 */
export function processInNamespace(pid: number, name: string): boolean {
  try {
    const theirs = statSync(`/proc/${pid}/ns/net`)
    const named = statSync(`${NETNS_DIR}/${assertOwnedNamespace(name)}`)
    return theirs.ino === named.ino && theirs.dev === named.dev
  } catch {
    return false
  }
}

/** Whether process `pid` is in this process's own network namespace (the host's, for lbaas). */
export function processInOwnNamespace(pid: number): boolean {
  try {
    const theirs = statSync(`/proc/${pid}/ns/net`)
    const ours = statSync('/proc/self/ns/net')
    return theirs.ino === ours.ino && theirs.dev === ours.dev
  } catch {
    return false
  }
}

/** Namespaces whose name starts with `prefix` (which must itself start with one of ours), sorted. */
export function listNamespaces(prefix: string): string[] {
  assertOwnedPrefix(prefix, 'namespace')
  let entries: string[]
  try {
    entries = readdirSync(NETNS_DIR)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw error
  }
  return entries.filter((name) => name.startsWith(prefix)).sort()
}

/**
 * Creates the namespace if it is missing and brings its `lo` up. Idempotent; returns true
 * when it created the namespace. Throws ExternalCommandError when `ip` fails.
 */
export async function ensureNamespace(name: string): Promise<boolean> {
  assertOwnedNamespace(name)
  const created = !namespaceExists(name)
  if (created) await ipBatch([`netns add ${name}`])
  await ipBatch(['link set lo up'], {namespace: name})
  return created
}

/**
 * Deletes the namespace. Idempotent: returns false when it did not exist. The kernel then
 * destroys the namespace's veths (and so their root-side peers) asynchronously, in batches:
 * far faster than deleting each veth (probe.md §2), but a peer's name stays taken for
 * 4–36 ms; plugVip waits for that. A process still running inside (HAProxy) keeps the
 * namespace and its links alive until it exits, so stop it first; orphaned TCP sockets
 * can keep it for a minute or two more (see plug.ts `unplugNamespace`).
 */
export async function deleteNamespace(name: string): Promise<boolean> {
  if (!namespaceExists(name)) return false
  const result = await run(['ip', 'netns', 'del', name], {allowFailure: true})
  if (result.exitCode === 0) return true
  if (!namespaceExists(name)) return false
  throw new ExternalCommandError(['ip', 'netns', 'del', name], result.exitCode, result.stderr)
}

/**
 * Deletes many namespaces with one `ip -batch` (for `sync` and `lab down`). Idempotent;
 * returns the names that existed. Throws when one of them could not be deleted.
 */
export async function deleteNamespaces(names: readonly string[]): Promise<string[]> {
  const existing = names.filter((name) => namespaceExists(name))
  if (existing.length === 0) return []
  await ipBatch(
    existing.map((name) => `netns del ${name}`),
    {force: true},
  )
  const left = existing.filter((name) => namespaceExists(name))
  if (left.length > 0) {
    throw new ExternalCommandError(['ip', '-force', '-batch', '-'], 1, `could not delete namespaces: ${left.join(', ')}`)
  }
  return existing
}
