// Loading the compiled tree for bench scripts, and a service-layer context over a state file
// that touches nothing on the host (the CLI's own wiring with the noop executor, as
// LBAAS_EXECUTOR=noop gives), for scripts that fill a state file quickly
// (bench/seed-state.mjs, bench/add-members.mjs).
import {resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

/** Imports a module of the compiled tree DIST_DIR (default: ../dist beside this script). */
export function distLoader(distDir) {
  const dist = resolve(distDir ?? new URL('../dist', import.meta.url).pathname)
  return (path) => import(pathToFileURL(`${dist}/${path}`).href)
}

export async function openInertContext(load, stateFile) {
  const [{openAppContext}, {silentNotifier}, {NoopExecutor}] = await Promise.all([
    load('src/service/wiring.js'),
    load('src/service/context.js'),
    load('src/executor/noop.js'),
  ])
  return openAppContext({state: stateFile, notify: silentNotifier, executor: new NoopExecutor()})
}
