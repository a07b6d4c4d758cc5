import {Flags} from '@oclif/core'

import type {Monitor} from '../../src/domain/types.js'
import {createMonitor} from '../../src/service/monitors.js'
import {monitorForm} from '../../src/ui/forms.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MonitorCreate extends LbaasCommand {
  static summary = 'Create a health monitor (then associate it with a pool)'
  static description =
    'In HAProxy terms: delay is the check interval, timeout the check timeout, and max_retries both fall and rise: ' +
    'a member is taken out after max_retries failed checks in a row and brought back after as many passed ones. ' +
    'PING is a TCP connect check (HAProxy cannot ping). A monitor does nothing until `lbaas monitor associate MONITOR POOL`. ' +
    'Run with no flags on a terminal to be asked for each value; the equivalent one-line command is printed at the end.'
  static examples = [
    '<%= config.bin %> monitor create --type HTTP --delay 2 --timeout 1 --max-retries 2 --url-path /healthz --expected-codes 200',
    '<%= config.bin %> monitor create --type TCP --delay 5 --timeout 3 --max-retries 3',
    '<%= config.bin %> monitor create --name http-check --type HTTP --delay 2 --timeout 1 --max-retries 2 --url-path /healthz',
    {description: 'On a terminal: asked for each value, then shown the one-line command', command: '<%= config.bin %> monitor create'},
  ]
  static flags = {
    name: Flags.string({description: 'optional name (1–64 of A-Z a-z 0-9 . _ -), usable instead of the id'}),
    type: Flags.string({description: 'PING, TCP, HTTP or HTTPS (PING is a TCP connect check)'}),
    delay: Flags.string({description: 'seconds between checks (≥ 1)'}),
    timeout: Flags.string({description: 'seconds a check may take (≥ 1, ≤ delay)'}),
    'max-retries': Flags.string({description: 'failed or passed checks before a member changes state, 1–10'}),
    'http-method': Flags.string({description: 'HTTP method of the check [default: GET]'}),
    'url-path': Flags.string({description: 'path of the check, starting with / [default: /]'}),
    'expected-codes': Flags.string({description: 'healthy statuses: 200, 200,202, 200-204 or 200,201-203 [default: 200]'}),
    'admin-state-down': Flags.boolean({description: 'create the monitor administratively down'}),
  }

  async run(): Promise<Monitor> {
    const {flags} = await this.parseCommand(MonitorCreate)
    const guide = this.guide(flags)
    const form = await monitorForm(guide, flags)
    const monitor = await this.show(await createMonitor(await this.ctx, form.input))
    await this.printEquivalent(guide, form.positionals, form.flags)
    return monitor
  }
}
