import {RuntimeFailure} from '../domain/errors.js'

/**
 * Gearman failures. All are runtime failures (exit 1); callers branch on `code`.
 */

/** No job server answered, the connection was lost, or the client/worker was closed. */
export class GearmanUnavailableError extends RuntimeFailure {
  constructor(message: string, suggestion = 'check that gearmand is running and reachable') {
    super('gearman_unavailable', message, suggestion)
  }
}

/** A job, a connect or an admin command did not finish in time. */
export class GearmanTimeoutError extends RuntimeFailure {
  constructor(message: string) {
    super('gearman_timeout', message)
  }
}

/** The worker answered WORK_FAIL or WORK_EXCEPTION, or the job server refused the job. */
export class GearmanJobFailedError extends RuntimeFailure {
  /** The text of a WORK_EXCEPTION or job-server ERROR, when there was one. */
  readonly detail: string | undefined

  constructor(message: string, detail?: string) {
    super('gearman_job_failed', detail === undefined ? message : `${message}: ${detail}`)
    this.detail = detail
  }
}

/** The peer sent bytes that are not the Gearman protocol (bad magic, absurd length, unknown type). */
export class GearmanProtocolError extends RuntimeFailure {
  constructor(message: string) {
    super('gearman_protocol', message)
  }
}
