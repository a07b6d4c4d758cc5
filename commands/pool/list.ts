import type {Pool} from '../../src/domain/types.js'
import {listAllPools} from '../../src/service/pools.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export const POOL_FIELDS = [
  'id', 'name', 'description', 'subnet_id', 'protocol', 'lb_method', 'admin_state_up', 'status', 'status_description',
  'operating_status', 'vip_id', 'members', 'health_monitors', 'agent',
]

export default class PoolList extends LbaasCommand {
  static summary = 'List pools'
  static examples = ['<%= config.bin %> pool list', '<%= config.bin %> pool list -f value -c id']

  async run(): Promise<readonly Pool[]> {
    await this.parseCommand(PoolList)
    return this.showList(
      listAllPools(await this.ctx),
      ['id', 'name', 'protocol', 'lb_method', 'admin_state_up', 'status', 'operating_status'],
      POOL_FIELDS,
    )
  }
}
