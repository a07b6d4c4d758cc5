import {
  parseAdminStatus,
  parseAdminVersion,
  parseAdminWorkers,
  readAdminResponse,
  type FunctionStatus,
  type WorkerConnection,
} from './codec.js'
import {formatServer, loadTlsMaterial, openSocket, type ServerAddress, type TlsFiles} from './connection.js'
import {GearmanProtocolError, GearmanTimeoutError, GearmanUnavailableError} from './errors.js'

export interface AdminOptions {
  /** Covers connect and answer. Default 5 s. */
  timeoutMs?: number
  tls?: TlsFiles
}

/**
 * The admin text protocol, one command per short-lived connection. Read-only commands
 * only. Rejects with GearmanUnavailableError (cannot connect, connection closed early),
 * GearmanTimeoutError, or GearmanProtocolError (the server answered ERR or nonsense).
 */
export async function adminCommand(
  server: ServerAddress,
  command: string,
  multiLine: boolean,
  options: AdminOptions = {},
): Promise<string[]> {
  if (/[\r\n]/.test(command)) throw new GearmanProtocolError('an admin command is one line')
  const timeoutMs = options.timeoutMs ?? 5_000
  const deadline = Date.now() + timeoutMs
  const socket = await openSocket(server, loadTlsMaterial(options.tls), timeoutMs)
  return new Promise<string[]>((resolve, reject) => {
    let text = ''
    let done = false
    const finish = (outcome: string[] | Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.removeAllListeners('data')
      socket.on('error', () => undefined)
      socket.destroy()
      if (outcome instanceof Error) reject(outcome)
      else resolve(outcome)
    }
    const timer = setTimeout(
      () => finish(new GearmanTimeoutError(`${formatServer(server)} did not answer "${command}" within ${timeoutMs} ms`)),
      Math.max(0, deadline - Date.now()),
    )
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      text += chunk
      const response = readAdminResponse(text, multiLine)
      if (!response) return
      if ('error' in response) finish(new GearmanProtocolError(`${formatServer(server)} refused "${command}": ${response.error}`))
      else finish(response.lines)
    })
    socket.on('error', (error) => finish(new GearmanUnavailableError(`admin connection to ${formatServer(server)} failed: ${error.message}`)))
    socket.on('close', () => finish(new GearmanUnavailableError(`${formatServer(server)} closed the admin connection before answering "${command}"`)))
    socket.write(`${command}\n`)
  })
}

/** `status`: per function, jobs queued in total, jobs running, and workers able to run it. */
export async function adminStatus(server: ServerAddress, options?: AdminOptions): Promise<FunctionStatus[]> {
  return parseAdminStatus(await adminCommand(server, 'status', true, options))
}

/** `workers`: every connection (workers and clients alike) with its client id and functions. */
export async function adminWorkers(server: ServerAddress, options?: AdminOptions): Promise<WorkerConnection[]> {
  return parseAdminWorkers(await adminCommand(server, 'workers', true, options))
}

export async function adminVersion(server: ServerAddress, options?: AdminOptions): Promise<string> {
  const [line = ''] = await adminCommand(server, 'version', false, options)
  return parseAdminVersion(line)
}
