import {readFileSync, statSync} from 'node:fs'
import {afterAll, describe, expect, it, vi} from 'vitest'
import {ExternalCommandError} from '../../../src/domain/errors.js'
import {isAlive, terminate, waitUntilDead} from '../../../src/host/proc.js'
import {recordCommands, run, spawnDetached, startCommand} from '../../../src/host/run.js'
import {formatArgv} from '../../../src/util/argv.js'
import {tempDir} from '../../helpers/tmp.js'
import {waitFor} from '../../helpers/wait.js'

const node = process.execPath
const dir = tempDir('lbaas-run-')
afterAll(() => dir.cleanup())

describe('run', () => {
  it('returns stdout, stderr and the exit code', async () => {
    const result = await run([node, '-e', "process.stdout.write('out\\n'); process.stderr.write('err')"])
    expect(result).toEqual({stdout: 'out', stderr: 'err', exitCode: 0})
  })

  it('passes argv without a shell', async () => {
    const tricky = '$(echo hacked); `id` > /tmp/x; *'
    const result = await run([node, '-e', 'process.stdout.write(process.argv[1])', tricky])
    expect(result.stdout).toBe(tricky)
  })

  it('feeds input to stdin, and closes stdin otherwise', async () => {
    const echo = [node, '-e', "let s=''; process.stdin.on('data', d => s += d).on('end', () => process.stdout.write(s.toUpperCase()))"]
    expect((await run(echo, {input: 'abc\n'})).stdout).toBe('ABC')
    expect((await run(echo, {timeoutMs: 5_000})).stdout).toBe('')
  })

  it('throws ExternalCommandError with argv, exit code and stderr on failure', async () => {
    const argv = [node, '-e', "process.stderr.write('bad thing'); process.exit(3)"]
    const error = await run(argv).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ExternalCommandError)
    expect(error).toMatchObject({code: 'command_failed', exit: 1, exitCode: 3, stderr: 'bad thing', argv})
    expect((error as Error).message).toContain('bad thing')
  })

  it('returns a non-zero exit with allowFailure', async () => {
    const result = await run([node, '-e', 'process.exit(4)'], {allowFailure: true})
    expect(result.exitCode).toBe(4)
  })

  it('kills and throws on timeout, even with allowFailure', async () => {
    const started = Date.now()
    const error = await run([node, '-e', 'setTimeout(() => {}, 60000)'], {timeoutMs: 300, allowFailure: true}).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ExternalCommandError)
    expect((error as Error).message).toMatch(/timed out after 300 ms/)
    expect(Date.now() - started).toBeLessThan(30_000)
  })

  it('says when a program is not installed', async () => {
    const error = await run(['lbt-no-such-program-xyz']).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ExternalCommandError)
    expect((error as Error).message).toMatch(/program not found/)
  })

  it('prefixes ip netns exec for a namespace, and refuses odd namespace names', async () => {
    const recorder = recordCommands()
    await run(['true'], {netns: 'lbt-does-not-exist-x'}).catch(() => undefined)
    recorder.stop()
    expect(recorder.commands[0].argv).toEqual(['ip', 'netns', 'exec', 'lbt-does-not-exist-x', 'true'])
    await expect(run(['true'], {netns: '../x'})).rejects.toThrow(/invalid namespace name/)
  })

  it('records commands while a recorder runs, and traces them with LBAAS_DEBUG=1', async () => {
    const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
    vi.stubEnv('LBAAS_DEBUG', '1')
    const recorder = recordCommands()
    await run([node, '-e', '0'])
    await run([node, '-e', 'process.exit(2)'], {allowFailure: true, input: 'line one\n'})
    recorder.stop()
    await run([node, '-e', '0'])
    vi.unstubAllEnvs()
    expect(recorder.commands.map((command) => command.exitCode)).toEqual([0, 2])
    expect(recorder.commands[1].input).toBe('line one\n')
    expect(recorder.commands.every((command) => command.durationMs >= 0 && command.outcome === 'exited')).toBe(true)
    const traced = write.mock.calls.map(([text]) => String(text)).join('')
    expect(traced).toMatch(/lbaas: +[\d.]+ ms {2}exit 2 /)
    expect(traced).toContain('    < line one')
  })
})

describe('startCommand', () => {
  it('exposes the pid and reports the signal that ended the program', async () => {
    const running = await startCommand([node, '-e', 'setInterval(() => {}, 1000)'])
    expect(running.pid).toBeGreaterThan(0)
    expect(running.kill('SIGTERM')).toBe(true)
    const finished = await running.finished
    expect(finished).toMatchObject({exitCode: undefined, signal: 'SIGTERM'})
  })
})

describe('formatArgv', () => {
  it('quotes what a shell would split or expand', () => {
    expect(formatArgv(['ip', '-n', 'lbaas-x', 'addr', 'add', '198.18.0.1/24'])).toBe('ip -n lbaas-x addr add 198.18.0.1/24')
    expect(formatArgv(['echo', 'a b', "it's", ''])).toBe(`echo 'a b' 'it'\\''s' ''`)
  })
})

describe('spawnDetached', () => {
  it('starts a long-running program with its output in a 0600 log file and returns its PID', async () => {
    const log = `${dir.path}/logs/child.log`
    const pid = await spawnDetached([node, '-e', "console.log('hello from child'); setInterval(() => {}, 1000)"], {logFile: log})
    try {
      expect(isAlive(pid)).toBe(true)
      await waitFor('the child to log', () => readFileSync(log, 'utf8').includes('hello'), 5_000, 20)
      expect(readFileSync(log, 'utf8')).toContain('hello from child')
      expect(statSync(log).mode & 0o777).toBe(0o600)
      // Its own session: a Ctrl-C to the CLI's process group does not reach it.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      expect(Number(fields[3])).toBe(pid) // session id (field 6)
    } finally {
      await terminate(pid, {graceMs: 2_000})
    }
    expect(await waitUntilDead(pid, 1_000)).toBe(true)
  })

  it('throws when the program does not exist', async () => {
    await expect(spawnDetached(['lbt-no-such-program-xyz'], {logFile: `${dir.path}/none.log`})).rejects.toBeInstanceOf(ExternalCommandError)
  })
})
