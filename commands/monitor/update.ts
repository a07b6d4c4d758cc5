import {Args, Flags} from '@oclif/core'

import type {Monitor} from '../../src/domain/types.js'
import {updateMonitor} from '../../src/service/monitors.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MonitorUpdate extends LbaasCommand {
  static summary = 'Update a health monitor (every deployed pool it serves is updated)'
  static examples = [
    '<%= config.bin %> monitor update 6f1c2a9e-0000-4000-8000-000000000002 --delay 10 --timeout 5',
    '<%= config.bin %> monitor update 6f1c2a9e-0000-4000-8000-000000000002 --expected-codes 200-204',
    '<%= config.bin %> monitor update 6f1c2a9e-0000-4000-8000-000000000002 --name http-check',
  ]
  static args = {monitor: Args.string({required: true, description: 'monitor name or id'})}
  static flags = {
    name: Flags.string({description: 'new name (1–64 of A-Z a-z 0-9 . _ -)'}),
    delay: Flags.string({description: 'seconds between checks (≥ 1)'}),
    timeout: Flags.string({description: 'seconds a check may take (≥ 1, ≤ delay)'}),
    'max-retries': Flags.string({description: '1–10'}),
    'http-method': Flags.string({description: 'HTTP method of the check'}),
    'url-path': Flags.string({description: 'path of the check, starting with /'}),
    'expected-codes': Flags.string({description: 'healthy statuses, e.g. 200,202 or 200-204'}),
    'admin-state-up': Flags.string({description: 'true or false'}),
  }

  async run(): Promise<Monitor> {
    const {args, flags} = await this.parseCommand(MonitorUpdate)
    const monitor = await updateMonitor(await this.ctx, args.monitor, {
      name: flags.name,
      delay: flags.delay,
      timeout: flags.timeout,
      max_retries: flags['max-retries'],
      http_method: flags['http-method'],
      url_path: flags['url-path'],
      expected_codes: flags['expected-codes'],
      admin_state_up: flags['admin-state-up'],
    })
    return this.show(monitor)
  }
}
