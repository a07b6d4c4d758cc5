import {Args, Flags} from '@oclif/core'

import type {Member} from '../../src/domain/types.js'
import {updateMember} from '../../src/service/members.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MemberUpdate extends LbaasCommand {
  static summary = 'Update a member: weight and admin state apply without a reload'
  static examples = [
    '<%= config.bin %> member update 6f1c2a9e-0000-4000-8000-000000000001 --weight 3',
    '<%= config.bin %> member update 6f1c2a9e-0000-4000-8000-000000000001 --admin-state-up false',
  ]
  static args = {member: Args.string({required: true, description: 'member id'})}
  static flags = {
    weight: Flags.string({description: 'share of new connections, 0–256'}),
    'admin-state-up': Flags.string({description: 'true or false'}),
    pool: Flags.string({description: 'move the member to this pool (name or id)'}),
  }

  async run(): Promise<Member> {
    const {args, flags} = await this.parseCommand(MemberUpdate)
    const member = await updateMember(await this.ctx, args.member, {
      weight: flags.weight,
      admin_state_up: flags['admin-state-up'],
      pool: flags.pool,
    })
    return this.show(member)
  }
}
