import type {Monitor} from '../../src/domain/types.js'
import {listAllMonitors} from '../../src/service/monitors.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export const MONITOR_FIELDS = [
  'id', 'type', 'delay', 'timeout', 'max_retries', 'http_method', 'url_path', 'expected_codes', 'admin_state_up', 'pools',
]

export default class MonitorList extends LbaasCommand {
  static summary = 'List health monitors'
  static examples = ['<%= config.bin %> monitor list', '<%= config.bin %> monitor list -f value -c id']

  async run(): Promise<readonly Monitor[]> {
    await this.parseCommand(MonitorList)
    return this.showList(
      listAllMonitors(await this.ctx),
      ['id', 'type', 'delay', 'timeout', 'max_retries', 'admin_state_up'],
      MONITOR_FIELDS,
    )
  }
}
