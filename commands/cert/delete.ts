import {Args, Flags} from '@oclif/core'

import type {Certificate} from '../../src/domain/types.js'
import {deleteCertificate} from '../../src/service/certificates.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class CertDelete extends LbaasCommand {
  static summary = 'Delete a certificate no VIP uses'
  static examples = ['<%= config.bin %> cert delete shop --yes']
  static args = {cert: Args.string({required: true, description: 'certificate name or id'})}
  static flags = {yes: Flags.boolean({char: 'y', description: 'do not ask for confirmation'})}

  async run(): Promise<Certificate> {
    const {args, flags} = await this.parseCommand(CertDelete)
    await this.confirmDestructive(`Delete certificate ${args.cert}?`, flags.yes)
    return this.showDeleted('certificate', deleteCertificate(await this.ctx, args.cert))
  }
}
