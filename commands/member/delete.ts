import {Args, Flags} from '@oclif/core'

import type {Member} from '../../src/domain/types.js'
import {deleteMember} from '../../src/service/members.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MemberDelete extends LbaasCommand {
  static summary = 'Remove a member from its pool'
  static examples = ['<%= config.bin %> member delete 6f1c2a9e-0000-4000-8000-000000000001 --yes']
  static args = {member: Args.string({required: true, description: 'member id'})}
  static flags = {yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation'})}

  async run(): Promise<Member> {
    const {args, flags} = await this.parseCommand(MemberDelete)
    await this.confirmDestructive(`Delete member ${args.member}?`, flags.yes)
    return this.showDeleted('member', await deleteMember(await this.ctx, args.member))
  }
}
