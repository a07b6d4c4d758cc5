import {Args} from '@oclif/core'

import type {Member} from '../../src/domain/types.js'
import {showMember} from '../../src/service/members.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MemberShow extends LbaasCommand {
  static summary = 'Show a member'
  static examples = ['<%= config.bin %> member show 6f1c2a9e-0000-4000-8000-000000000001']
  static args = {member: Args.string({required: true, description: 'member id'})}

  async run(): Promise<Member> {
    const {args} = await this.parseCommand(MemberShow)
    return this.show(await showMember(await this.ctx, args.member))
  }
}
