import {Flags} from '@oclif/core'

import {MONITOR_TYPES, type Monitor} from '../../src/domain/types.js'
import * as rules from '../../src/domain/validation.js'
import {createMonitor} from '../../src/service/monitors.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MonitorCreate extends LbaasCommand {
  static summary = 'Create a health monitor (then associate it with a pool)'
  static examples = [
    '<%= config.bin %> monitor create --type HTTP --delay 2 --timeout 1 --max-retries 2 --url-path /healthz --expected-codes 200',
    '<%= config.bin %> monitor create --type TCP --delay 5 --timeout 3 --max-retries 3',
  ]
  static flags = {
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
    const input = await this.ask(flags, {
      type: {kind: 'select', message: 'Monitor type', choices: MONITOR_TYPES, default: 'HTTP'},
      delay: {kind: 'input', message: 'Delay between checks (s)', default: '5', validate: rules.delay},
      timeout: {kind: 'input', message: 'Check timeout (s)', default: '3', validate: rules.timeout},
      'max-retries': {kind: 'input', message: 'Max retries', default: '3', validate: rules.maxRetries},
    })
    const monitor = await createMonitor(await this.ctx, {
      type: input.type,
      delay: input.delay,
      timeout: input.timeout,
      max_retries: input['max-retries'],
      http_method: flags['http-method'],
      url_path: flags['url-path'],
      expected_codes: flags['expected-codes'],
      admin_state_up: !flags['admin-state-down'],
    })
    return this.show(monitor)
  }
}
