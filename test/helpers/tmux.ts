/**
 * A real terminal for tests: a command in a detached tmux session on a private tmux server
 * (its own socket, so nothing else's sessions are touched), keys typed with `send-keys`, the
 * screen read with `capture-pane`. Always `kill()` it in a finally/afterAll.
 */
import {execFileSync} from 'node:child_process'
import {rmSync} from 'node:fs'

import {uniqueSuffix} from './unique.js'
import {waitFor} from './wait.js'


export class TmuxSession {
  private socketPath?: string

  private constructor(
    private readonly socket: string,
    readonly name: string,
  ) {}

  /**
   * Starts `command` (run by bash) in a width × height terminal with `env` added to a
   * clean environment (no CI, so the CLI may prompt). After the command, the pane prints
   * `EXIT=<code>` and stays open, so its last screen can still be read.
   */
  static start(command: string, env: Record<string, string>, size = {width: 160, height: 50}): TmuxSession {
    const session = new TmuxSession(`lbaas-test-${uniqueSuffix(8)}`, 'test')
    const environment = Object.entries({TERM: 'xterm-256color', LANG: 'C.UTF-8', ...env}).flatMap(([key, value]) => ['-e', `${key}=${value}`])
    session.tmux([
      'new-session', '-d', '-s', session.name, '-x', String(size.width), '-y', String(size.height), ...environment,
      'env', '-u', 'CI', '-u', 'NO_COLOR', 'bash', '--norc', '--noprofile', '-c', `${command}; echo EXIT=$?; sleep 600`,
    ])
    session.socketPath = session.tmux(['display-message', '-p', '#{socket_path}']).trim()
    return session
  }

  private tmux(args: readonly string[]): string {
    return execFileSync('tmux', ['-L', this.socket, '-f', '/dev/null', ...args], {encoding: 'utf8', timeout: 10_000})
  }

  /** Key names as tmux knows them: `Enter`, `Down`, `C-u`, `C-c`. */
  keys(...keys: string[]): void {
    this.tmux(['send-keys', '-t', this.name, ...keys])
  }

  /** Literal text, as typed. */
  type(text: string): void {
    this.tmux(['send-keys', '-t', this.name, '-l', text])
  }

  /**
   * The visible screen plus scroll-back, wrapped lines joined, trailing blank lines dropped;
   * with `escapes`, colours and attributes as escape sequences.
   */
  screen(options: {escapes?: boolean} = {}): string {
    const args = ['capture-pane', '-p', '-J', ...(options.escapes ? ['-e'] : []), '-S', '-500', '-t', this.name]
    return this.tmux(args).replace(/\n+$/, '\n')
  }

  /** Polls the screen until `expected` appears (bounded); returns the screen. */
  async waitFor(expected: string | RegExp, timeoutMs = 20_000): Promise<string> {
    const shows = (screen: string) => (typeof expected === 'string' ? screen.includes(expected) : expected.test(screen))
    return waitFor(String(expected), () => {
      const screen = this.screen()
      return shows(screen) ? screen : undefined
    }, timeoutMs).catch((error: Error) => {
      throw new Error(`${error.message}; the screen:\n${this.screen()}`)
    })
  }

  /** Ends the session and its private server (and so the command, if still running). */
  kill(): void {
    try {
      this.tmux(['kill-server'])
    } catch {
      // already gone
    }
    // tmux leaves its socket file behind.
    if (this.socketPath) rmSync(this.socketPath, {force: true})
  }
}
