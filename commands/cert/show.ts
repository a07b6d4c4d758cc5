import {Args} from '@oclif/core'

import type {Certificate} from '../../src/domain/types.js'
import {showCertificate} from '../../src/service/certificates.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class CertShow extends LbaasCommand {
  static summary = 'Show a certificate (never its key)'
  static examples = ['<%= config.bin %> cert show shop']
  static args = {cert: Args.string({required: true, description: 'certificate name or id'})}

  async run(): Promise<Certificate> {
    const {args} = await this.parseCommand(CertShow)
    return this.show(showCertificate(await this.ctx, args.cert))
  }
}
