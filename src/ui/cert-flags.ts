/** The flags `cert create` and `cert update` share: where the material comes from (paths only). */
import {Flags} from '@oclif/core'

import type {CertificateSource} from '../service/certificates.js'

export const certificateSourceFlags = {
  cert: Flags.string({description: 'PEM certificate (the leaf; may be followed by its chain)', exclusive: ['pkcs12']}),
  key: Flags.string({description: 'PEM private key, unencrypted (for a passphrase use --pkcs12 --passphrase-file)', exclusive: ['pkcs12']}),
  chain: Flags.string({description: 'PEM intermediate certificates, the issuer of the leaf first', exclusive: ['pkcs12']}),
  pkcs12: Flags.string({description: 'PKCS#12 bundle (.p12/.pfx) holding the certificate, its key and chain'}),
  'passphrase-file': Flags.string({description: 'file whose first line is the PKCS#12 passphrase', dependsOn: ['pkcs12']}),
}

export function certificateSource(flags: {cert?: string; key?: string; chain?: string; pkcs12?: string; 'passphrase-file'?: string}): CertificateSource {
  return {
    cert_file: flags.cert,
    key_file: flags.key,
    chain_file: flags.chain,
    pkcs12_file: flags.pkcs12,
    passphrase_file: flags['passphrase-file'],
  }
}
