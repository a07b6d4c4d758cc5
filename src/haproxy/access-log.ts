/**
 * Parses the lines HAProxy writes into the log ring (`format timed`: `<PRI>ISO-TIME ` and
 * then the line of `option httplog` or `option tcplog`). Pure. A line it does not know is
 * kept whole in `line` with the other fields null, never dropped.
 */

export interface AccessLogEntry {
  /** When HAProxy wrote the line (ISO-8601). */
  time: string | null
  client: string | null
  frontend: string | null
  backend: string | null
  /** The server that answered: lbaas names servers by member id; `<NOSRV>` when none did. */
  server: string | null
  /** HTTP status; null for TCP lines (and -1 when the client aborted before one). */
  status: number | null
  /** Bytes sent to the client. */
  bytes: number | null
  /** Total session time in ms (the last timer). */
  duration_ms: number | null
  /** Termination state, e.g. `----`, `SD--`, `CC--`. */
  termination_state: string | null
  /** HTTP request line; null for TCP lines. */
  request: string | null
  /** The line as HAProxy wrote it (without the syslog priority). */
  line: string
}

const TIMED = /^<\d{1,3}>(\S+) (.*)$/
// client [accept date] frontend backend/server timers status bytes req-cookie res-cookie term conns queues {captures} "request"
const HTTP = /^(\S+) \[[^\]]+\] (\S+) ([^\s/]+)\/(\S+) (\S+) (-?\d+) (\d+) \S+ \S+ (\S{4}) \S+ \S+(?: \{.*\})? "(.*)"$/
// client [accept date] frontend backend/server Tw/Tc/Tt bytes term conns queues
const TCP = /^(\S+) \[[^\]]+\] (\S+) ([^\s/]+)\/(\S+) (\S+) (\d+) (\S{2,4}) \S+ \S+$/

const lastTimer = (timers: string): number | null => {
  const value = Number(timers.split('/').at(-1)?.replace(/^\+/, ''))
  return Number.isFinite(value) ? value : null
}

export function parseAccessLogLine(raw: string): AccessLogEntry {
  const timed = TIMED.exec(raw)
  const line = timed ? timed[2] : raw
  const entry: AccessLogEntry = {
    time: timed ? timed[1] : null,
    client: null,
    frontend: null,
    backend: null,
    server: null,
    status: null,
    bytes: null,
    duration_ms: null,
    termination_state: null,
    request: null,
    line,
  }
  const http = HTTP.exec(line)
  if (http) {
    return {
      ...entry,
      client: http[1],
      frontend: http[2],
      backend: http[3],
      server: http[4],
      duration_ms: lastTimer(http[5]),
      status: Number(http[6]),
      bytes: Number(http[7]),
      termination_state: http[8],
      request: http[9],
    }
  }
  const tcp = TCP.exec(line)
  if (tcp) {
    return {
      ...entry,
      client: tcp[1],
      frontend: tcp[2],
      backend: tcp[3],
      server: tcp[4],
      duration_ms: lastTimer(tcp[5]),
      bytes: Number(tcp[6]),
      termination_state: tcp[7],
    }
  }
  return entry
}
