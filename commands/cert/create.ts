import {Args} from '@oclif/core'

import type {Certificate} from '../../src/domain/types.js'
import {createCertificate} from '../../src/service/certificates.js'
import {certificateSource, certificateSourceFlags} from '../../src/ui/cert-flags.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'

export default class CertCreate extends LbaasCommand {
  static summary = 'Store a TLS certificate for TERMINATED_HTTPS VIPs'
  static description =
    'The certificate is checked first: it parses, the key matches it, the chain leads from the leaf to its issuer, ' +
    'the key is RSA ≥ 2048 bits or EC P-256/P-384, and it has not expired. The private key is kept in the state file ' +
    'and never printed. Encrypted PEM keys are refused: give a PKCS#12 bundle with --passphrase-file instead.'
  static examples = [
    '<%= config.bin %> cert create shop --cert shop.crt --key shop.key --chain intermediate.pem',
    '<%= config.bin %> cert create shop --pkcs12 shop.p12 --passphrase-file shop.pass',
  ]
  static args = {name: Args.string({required: true, description: 'certificate name: 1–64 of A-Z a-z 0-9 . _ -'})}
  static flags = certificateSourceFlags

  async run(): Promise<Certificate> {
    const {args, flags} = await this.parseCommand(CertCreate)
    const result = await createCertificate(await this.ctx, args.name, certificateSource(flags))
    return this.show(result.certificate)
  }
}
