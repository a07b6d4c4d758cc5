#!/usr/bin/env bash
# Builds a private copy of the CLI with one proposed change applied to the compiled code,
# to measure the change before anyone makes it in src/ (compare with COMPARE_BIN=… in
# bench/deploy.sh). Experiments only: the patched copy is not tested.
#
#   bench/experiments/build-variant.sh no-execa DIR    host/run.js starts programs with node:child_process
#                                          instead of execa (whose import costs ~80 ms in
#                                          every command that runs a program); same
#                                          contract: argv only, timeout then SIGTERM and
#                                          SIGKILL, LC_ALL=C, stdout/stderr kept
# Prints DIR/bin/run.js.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
name="${1:?usage: bench/experiments/build-variant.sh no-execa DIR}"
dir="${2:?usage: bench/experiments/build-variant.sh no-execa DIR}"
"$root/bench/snapshot.sh" "$dir" >/dev/null 2>&1 || { echo "build failed (bench/snapshot.sh $dir)" >&2; exit 1; }
case "$name" in
  no-execa)
    node - "$dir/dist/src/host/run.js" <<'EOF'
const {readFileSync, writeFileSync} = require('node:fs')
const file = process.argv[2]
const text = readFileSync(file, 'utf8')
const start = text.indexOf('let execaModule;')
const end = text.indexOf('function notStartedDetail')
if (start < 0 || end < 0) throw new Error(`${file}: startCommand is not where this patch expects it; update bench/experiments/build-variant.sh`)
const replacement = `import { spawn as spawnChild } from 'node:child_process';
// bench/experiments/build-variant.sh no-execa: node:child_process instead of execa.
export async function startCommand(argv, options = {}) {
    const full = fullArgv(argv, options.netns);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const started = performance.now();
    const child = spawnChild(full[0], full.slice(1), {
        env: { ...process.env, LC_ALL: 'C' },
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '', stderr = '', timedOut = false, spawnError;
    child.stdout.setEncoding('utf8').on('data', (data) => (stdout += data));
    child.stderr.setEncoding('utf8').on('data', (data) => (stderr += data));
    if (options.input !== undefined) child.stdin.end(options.input);
    const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), FORCE_KILL_AFTER_MS).unref();
    }, timeoutMs);
    const finished = new Promise((resolve, reject) => {
        child.on('error', (error) => { spawnError = error; });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            const notStarted = spawnError !== undefined && (code === null || code < 0) && !signal;
            emit({ argv: full, input: options.input, exitCode: code ?? undefined, durationMs: performance.now() - started,
                outcome: timedOut ? 'timed-out' : notStarted ? 'not-started' : signal ? 'signalled' : 'exited' });
            if (notStarted) return reject(new ExternalCommandError(full, undefined, notStartedDetail(full[0], { code: spawnError.code, shortMessage: spawnError.message }), options.what));
            if (timedOut) return reject(new ExternalCommandError(full, undefined, stderr, \`\${options.what ?? formatArgv(full)} (timed out after \${timeoutMs} ms)\`));
            resolve({ stdout, stderr, exitCode: code ?? undefined, signal: signal ?? undefined });
        });
    });
    finished.catch(() => undefined);
    return { pid: child.pid, kill: (signal) => child.kill(signal), finished };
}
`
writeFileSync(file, text.slice(0, start) + replacement + text.slice(end))
EOF
    ;;
  *)
    echo "unknown variant $name" >&2
    exit 2
    ;;
esac
echo "$dir/bin/run.js"
