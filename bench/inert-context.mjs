// A service-layer context over a state file that touches nothing on the host, for scripts
// that fill a state file quickly (bench/seed-state.mjs, bench/add-members.mjs). Only pools
// without a VIP may be changed through it: those are exactly what the CLI would leave,
// since the CLI deploys nothing for them either.
import {resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

/** Imports a module of the compiled tree DIST_DIR (default: ../dist beside this script). */
export function distLoader(distDir) {
  const dist = resolve(distDir ?? new URL('../dist', import.meta.url).pathname)
  return (path) => import(pathToFileURL(`${dist}/${path}`).href)
}

const inertExecutor = {
  name: 'inert',
  async deploy() {
    return {state: 'not-deployed', reloaded: false, description: 'not deployed', warnings: []}
  },
  async applyRuntime() {
    return {state: 'not-deployed', reloaded: false, description: 'not deployed', warnings: []}
  },
  async undeploy() {},
  async liveStats() {
    return null
  },
  async ensureSubnet() {},
  async removeSubnet() {},
}

export async function openInertContext(load, stateFile) {
  const {openStore} = await load('src/store/db.js')
  const {silentNotifier} = await load('src/service/context.js')
  const statePath = resolve(stateFile)
  return {
    store: openStore(statePath),
    statePath,
    runDir: '/nonexistent',
    executorFor: () => inertExecutor,
    localExecutor: inertExecutor,
    hostExecutor: () => Promise.reject(new Error('this context touches nothing on the host')),
    device: {restore: async () => {}, renderStored: async () => null},
    withPoolLock: (_id, work) => work(),
    safeConnectionLimit: () => 8000,
    notify: silentNotifier,
  }
}
