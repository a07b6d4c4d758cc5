#!/usr/bin/env node
// Pre-bundles execa into one file, dist/vendor/execa.js, that src/host/run.ts imports on the
// first program it runs: execa's graph of ~100 small modules costs 180-450 ms to load on
// this machine, one bundled file a fraction of that (BENCHMARKS.md, "execa through a bundle").
import {build} from 'esbuild'

await build({
  entryPoints: ['node_modules/execa/index.js'],
  outfile: 'dist/vendor/execa.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  legalComments: 'linked',
  // cross-spawn and its helpers are CommonJS and require() Node's built-ins.
  banner: {js: "import {createRequire as __lbaasRequire} from 'node:module'; const require = __lbaasRequire(import.meta.url);"},
  logLevel: 'warning',
})
