#!/usr/bin/env node
// The plain listings are answered without oclif, whose loading is most of a command's
// start-up (scripts call `lbaas pool list -f value -c id` in loops: BENCHMARKS.md).
// Everything else, and any argv the fast path does not fully understand, goes to oclif.
const {runFastPath} = await import('../dist/src/ui/fast-path.js')
const exitCode = await runFastPath(process.argv.slice(2))
if (exitCode === undefined) {
  // @oclif/core checks its own `engines` (node >=18) on import by loading all of semver:
  // 47 files, 10–15 ms of every run. The same check without semver:
  if (Number(process.versions.node.split('.')[0]) < 18) {
    process.emitWarning(`Node version must be >=18.0.0 to use this CLI. Current node version: ${process.versions.node}`)
  }
  process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
  const {execute} = await import('@oclif/core')
  await execute({dir: import.meta.url})
} else {
  process.exitCode = exitCode
}
