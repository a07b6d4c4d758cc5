import {Args} from '@oclif/core'

import type {Certificate} from '../../src/domain/types.js'
import {updateCertificate} from '../../src/service/certificates.js'
import {certificateSource, certificateSourceFlags} from '../../src/ui/cert-flags.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class CertUpdate extends LbaasCommand {
  static summary = 'Replace a certificate (renewal): every VIP serving it switches without a reload'
  static description =
    'The new certificate is checked like `cert create`. Each deployed VIP that serves it gets it through ' +
    "HAProxy's runtime API (set ssl cert, commit ssl cert): no reload, no dropped connection. If HAProxy refuses it " +
    'anywhere, the old certificate keeps serving everywhere and nothing changes.'
  static examples = [
    '<%= config.bin %> cert update shop --cert renewed.crt --key renewed.key --chain intermediate.pem',
    '<%= config.bin %> cert update shop --cert /etc/letsencrypt/live/shop.example/fullchain.pem --key /etc/letsencrypt/live/shop.example/privkey.pem',
  ]
  static args = {cert: Args.string({required: true, description: 'certificate name or id'})}
  static flags = certificateSourceFlags

  async run(): Promise<Certificate> {
    const {args, flags} = await this.parseCommand(CertUpdate)
    const result = await updateCertificate(await this.ctx, args.cert, certificateSource(flags))
    return this.show(result.certificate)
  }
}
