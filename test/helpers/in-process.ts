/**
 * Runs a command class in this process, as `bin/run.js` would, against the noop executor
 * (LBAAS_EXECUTOR=noop): no root, no namespaces, no HAProxy. Output is captured; a failure
 * comes back as its exit code, like the real process's.
 */
import {Config} from '@oclif/core'
import {fileURLToPath} from 'node:url'
import {vi} from 'vitest'

export interface InProcessResult {
  exitCode: number
  stdout: string
  stderr: string
}

let config: Promise<Config> | undefined

/** A command class as `commands/` exports it. */
export type CommandClass = {run(argv: string[], config: Config): Promise<unknown>}

export async function runInProcess(command: CommandClass, argv: readonly string[], env: Record<string, string> = {}): Promise<InProcessResult> {
  config ??= Config.load({root: fileURLToPath(new URL('../..', import.meta.url))})
  let stdout = ''
  let stderr = ''
  const saved = {...process.env}
  Object.assign(process.env, {LBAAS_EXECUTOR: 'noop', NO_COLOR: '1', CI: '1', ...env})
  delete process.env.LBAAS_DEBUG
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true))
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true))
  try {
    await command.run([...argv], await config)
    return {exitCode: 0, stdout, stderr}
  } catch (error) {
    const exit = (error as {oclif?: {exit?: number}}).oclif?.exit
    if (exit === undefined) throw error
    return {exitCode: exit, stdout, stderr}
  } finally {
    out.mockRestore()
    err.mockRestore()
    process.env = saved
  }
}
