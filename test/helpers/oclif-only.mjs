#!/usr/bin/env node
// bin/run.js without its fast path: every argv goes to oclif. For the differential test
// of the fast path (test/integration/cli/fast-path-differential.test.ts); keep the oclif
// branch here identical to the one in bin/run.js.
if (Number(process.versions.node.split('.')[0]) < 18) {
  process.emitWarning(`Node version must be >=18.0.0 to use this CLI. Current node version: ${process.versions.node}`)
}
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
const {execute} = await import('@oclif/core')
await execute({dir: new URL('../../bin/run.js', import.meta.url).href})
