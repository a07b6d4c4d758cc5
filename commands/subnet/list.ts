import type {Subnet} from '../../src/domain/types.js'
import {listAllSubnets} from '../../src/service/subnets.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class SubnetList extends LbaasCommand {
  static summary = 'List subnets'
  static examples = ['<%= config.bin %> subnet list', '<%= config.bin %> subnet list -f value -c name']

  async run(): Promise<readonly Subnet[]> {
    await this.parseCommand(SubnetList)
    return this.showList(listAllSubnets(await this.ctx), ['id', 'name', 'cidr', 'gateway_ip', 'bridge', 'managed'], SUBNET_FIELDS)
  }
}

export const SUBNET_FIELDS = ['id', 'name', 'cidr', 'gateway_ip', 'bridge', 'managed']
