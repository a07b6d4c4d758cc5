/**
 * One CLI session on an HAProxy stats socket in prompt mode: several commands over one
 * connection. Held open, it also keeps a soft-stopping (old) worker alive: HAProxy waits
 * for every session before the process exits (the counter keeper relies on it).
 */
import net from 'node:net'

export class CliSession {
  private buffer = ''
  private waiter: (() => void) | undefined
  private closed = false

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffer += chunk
      this.waiter?.()
    })
    socket.on('close', () => {
      this.closed = true
      this.waiter?.()
    })
    socket.on('error', () => undefined)
  }

  /** Connects to `path` and enters prompt mode; rejects after `timeoutMs`. */
  static async open(path: string, timeoutMs = 2_000): Promise<CliSession> {
    const socket = net.connect(path)
    const timer = setTimeout(() => socket.destroy(new Error(`no answer from ${path} within ${timeoutMs} ms`)), timeoutMs)
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve)
        socket.once('error', reject)
      })
      const session = new CliSession(socket)
      await session.command('prompt')
      return session
    } finally {
      clearTimeout(timer)
    }
  }

  /** A session already in prompt mode on an inherited socket (e.g. fd 3 of a child process). */
  static adopt(socket: net.Socket): CliSession {
    return new CliSession(socket)
  }

  /** Sends one command and returns its answer (everything up to the next prompt). */
  async command(text: string): Promise<string> {
    this.buffer = ''
    this.socket.write(`${text}\n`)
    for (;;) {
      if (this.buffer === '> ') return ''
      if (this.buffer.endsWith('\n> ')) return this.buffer.slice(0, -3)
      if (this.closed) throw new Error(`the stats session closed during "${text}"`)
      await new Promise<void>((resolve) => (this.waiter = resolve))
    }
  }

  quit(): void {
    if (!this.closed) this.socket.end('quit\n')
  }
}
