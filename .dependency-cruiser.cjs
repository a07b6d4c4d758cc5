/**
 * The import rules of DESIGN.md, checked by test/unit/architecture.test.ts (so a forbidden
 * import fails the unit project) and by hand with
 *   npx depcruise src commands --config .dependency-cruiser.cjs
 *
 * Direction: commands → service → (domain, executor, store, haproxy, host, agent, gearman);
 * host → executor → domain; worker → service; domain imports nothing of the house.
 */

/** Node built-ins that reach outside the process: files, sockets, programs, processes. */
const IO_BUILTINS = '^(node:)?(fs|fs/promises|net|tls|dgram|dns|http|https|http2|child_process|cluster|worker_threads|process)$'

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'A cycle makes two rooms one: import downward only.',
      from: {},
      to: {circular: true},
    },
    {
      name: 'domain-imports-nothing',
      severity: 'error',
      comment: 'domain/ is types, validation, status rules and errors: nothing of the house, no I/O.',
      from: {path: '^src/domain/'},
      to: {path: '^(src/(?!domain/)|commands/)'},
    },
    {
      name: 'domain-no-io',
      severity: 'error',
      comment: 'Libraries of pure functions (ipaddr.js) are fine; built-ins are not.',
      from: {path: '^src/domain/'},
      to: {dependencyTypes: ['core']},
    },
    {
      name: 'pure-render-and-planners',
      severity: 'error',
      comment: 'Renderers, views, stats parsing and planners do no I/O: they are tested line by line.',
      from: {path: '^src/(haproxy/(render|view|words|stats)|worker/libra/device-view|service/executor-plan)[.]ts$'},
      to: {path: IO_BUILTINS, dependencyTypes: ['core']},
    },
    {
      name: 'only-host-runs-programs',
      severity: 'error',
      comment: 'Only src/host/ runs programs (argv arrays, timeouts, stderr kept: host/run.ts).',
      from: {pathNot: ['^src/host/']},
      to: {path: ['^(node:)?child_process$', '(^|/)node_modules/execa/']},
    },
    {
      name: 'services-decide-host-acts',
      severity: 'error',
      comment:
        'Services decide, host/ acts: a service calls a host/ function that names what it does (host/limits probeProgram, host/links deleteLink), never runs a program itself, not even through host/run.ts.',
      from: {path: '^src/service/'},
      to: {path: ['^src/host/run[.]ts$', '^(node:)?child_process$', '(^|/)node_modules/execa/']},
    },
    {
      name: 'commands-import-service-and-ui',
      severity: 'error',
      comment: 'A command parses flags, calls one service function and hands the result to ui/. Types of the domain are its vocabulary.',
      // serve-worker is the worker's face: its one call is the worker runtime.
      from: {path: '^commands/', pathNot: '^commands/serve-worker[.]ts$'},
      to: {
        path: '^(src/(?!service/|ui/)|commands/)',
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'commands-no-io',
      severity: 'error',
      from: {path: '^commands/'},
      to: {path: IO_BUILTINS, dependencyTypes: ['core']},
    },
  ],
  options: {
    doNotFollow: {path: 'node_modules'},
    exclude: {path: '^(dist|test|bench)/'},
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    enhancedResolveOptions: {exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js']},
  },

}
