import {Flags} from '@oclif/core'

import type {Member} from '../../src/domain/types.js'
import {listAllMembers} from '../../src/service/members.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export const MEMBER_FIELDS = [
  'id', 'pool_id', 'address', 'protocol_port', 'weight', 'admin_state_up', 'status', 'status_description', 'operating_status',
]

export default class MemberList extends LbaasCommand {
  static summary = 'List members, with health read live from HAProxy'
  static examples = ['<%= config.bin %> member list', '<%= config.bin %> member list --pool web -f value -c id']
  static flags = {pool: Flags.string({description: 'only the members of this pool (name or id)'})}

  async run(): Promise<readonly Member[]> {
    const {flags} = await this.parseCommand(MemberList)
    return this.showList(
      await listAllMembers(await this.ctx, flags.pool),
      ['id', 'address', 'protocol_port', 'weight', 'admin_state_up', 'status', 'operating_status'],
      MEMBER_FIELDS,
    )
  }
}
