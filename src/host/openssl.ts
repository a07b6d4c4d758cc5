/**
 * PKCS#12 bundles through the real `openssl` (Node has no PKCS#12 parser). The passphrase
 * is read by openssl from its file (`-passin file:`), so it never appears in an argv, a
 * trace or an error; the decrypted PEM comes back on stdout, which traces never print.
 */
import {ExternalCommandError, ValidationError} from '../domain/errors.js'
import {run} from './run.js'

/** The PEM blocks (certificates and the unencrypted key) of a PKCS#12 file. */
export async function readPkcs12(file: string, passphraseFile: string | undefined): Promise<string> {
  const passin = passphraseFile === undefined ? 'pass:' : `file:${passphraseFile}`
  const attempt = (legacy: boolean) =>
    run(['openssl', 'pkcs12', ...(legacy ? ['-legacy'] : []), '-in', file, '-nodes', '-passin', passin], {
      allowFailure: true,
      what: `openssl pkcs12 -in ${file}`,
    })
  let result = await attempt(false)
  // Bundles made by older tools use RC2/3DES, which OpenSSL 3 keeps in its legacy provider.
  if (result.exitCode !== 0 && /unsupported|legacy/i.test(result.stderr)) result = await attempt(true)
  if (result.exitCode === 0) return result.stdout
  if (/mac verify|invalid password|bad decrypt/i.test(result.stderr)) {
    throw new ValidationError(
      'pkcs12',
      passphraseFile === undefined
        ? `${file} is protected by a passphrase`
        : `the passphrase in ${passphraseFile} does not open ${file}`,
      'give the passphrase in a file with --passphrase-file FILE (one line)',
    )
  }
  if (/No such file|could not open|Could not open/i.test(result.stderr)) {
    throw new ValidationError('pkcs12', `cannot read ${file}`)
  }
  if (result.stderr.length > 0 && /error|expecting/i.test(result.stderr)) {
    throw new ValidationError('pkcs12', `${file} is not a PKCS#12 bundle openssl can read`)
  }
  throw new ExternalCommandError(['openssl', 'pkcs12', '-in', file], result.exitCode, result.stderr)
}
