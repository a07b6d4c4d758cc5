/**
 * The two-stage Ctrl-C of long commands (`lbaas demo`): the first asks the work to stop at
 * its next step and clean up; the second leaves at once (exit 130, like a shell).
 */
import {EXIT, LbaasError} from '../domain/errors.js'

export interface Interrupt {
  signal: AbortSignal
  /** Stops listening for SIGINT. */
  dispose(): void
}

export function twoStageInterrupt(what: string, write: (text: string) => void = (text) => process.stderr.write(text)): Interrupt {
  const controller = new AbortController()
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130)
    write('\ninterrupted: stopping and cleaning up (Ctrl-C again to leave at once)\n')
    controller.abort(new LbaasError('cancelled', EXIT.usage, `interrupted: ${what} stopped`))
  }
  process.on('SIGINT', onSigint)
  return {signal: controller.signal, dispose: () => process.off('SIGINT', onSigint)}
}
