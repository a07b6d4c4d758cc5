import {Args, Flags} from '@oclif/core'

import type {Member} from '../../src/domain/types.js'
import {createMember} from '../../src/service/members.js'
import {memberForm} from '../../src/ui/forms.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class MemberCreate extends LbaasCommand {
  static summary = 'Add a member (a backend server) to a pool'
  static description =
    'The member takes traffic once the pool has a VIP; --weight 0 keeps it in the pool without new connections. ' +
    'Run with no flags on a terminal to be asked for each value (existing objects offered from a list); the equivalent one-line command is printed at the end.'
  static examples = [
    '<%= config.bin %> member create web --address 198.18.0.11 --protocol-port 8000',
    '<%= config.bin %> member create web --address 198.18.0.12 --protocol-port 8000 --weight 3',
    {description: 'On a terminal: asked for each value, then shown the one-line command', command: '<%= config.bin %> member create'},
  ]
  static args = {pool: Args.string({description: 'pool name or id'})}
  static flags = {
    address: Flags.string({description: 'member IPv4 or IPv6 address'}),
    'protocol-port': Flags.string({description: 'member port, 1–65535'}),
    weight: Flags.string({description: 'share of new connections, 0–256 (0: none) [default: 1]'}),
    'admin-state-down': Flags.boolean({description: 'add the member administratively down'}),
  }

  async run(): Promise<Member> {
    const {args, flags} = await this.parseCommand(MemberCreate)
    const ctx = await this.ctx
    const guide = this.guide({...args, ...flags})
    const form = await memberForm(guide, ctx, {...args, ...flags})
    const member = await this.show(await createMember(ctx, form.input.pool, form.input))
    await this.printEquivalent(guide, form.positionals, form.flags)
    return member
  }
}
