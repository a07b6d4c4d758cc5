import type {Vip} from '../../src/domain/types.js'
import {listAllVips} from '../../src/service/vips.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export const VIP_FIELDS = [
  'id', 'name', 'description', 'pool_id', 'subnet_id', 'address', 'protocol', 'protocol_port', 'connection_limit',
  'session_persistence', 'admin_state_up', 'status', 'status_description',
]

export default class VipList extends LbaasCommand {
  static summary = 'List VIPs'
  static examples = ['<%= config.bin %> vip list', '<%= config.bin %> vip list -f value -c address']

  async run(): Promise<readonly Vip[]> {
    await this.parseCommand(VipList)
    return this.showList(
      listAllVips(await this.ctx),
      ['id', 'name', 'address', 'protocol', 'protocol_port', 'pool_id', 'admin_state_up', 'status'],
      VIP_FIELDS,
    )
  }
}
