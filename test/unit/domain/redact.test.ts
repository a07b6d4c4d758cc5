import {describe, expect, it} from 'vitest'

import {REDACTED, redactArgv, redactText} from '../../../src/domain/redact.js'

describe('redactArgv', () => {
  it('removes the values of secret-carrying flags, in both spellings', () => {
    expect(redactArgv(['web', '--key', 'k.pem', '--passphrase-file=/run/p', '--cert', 'c.pem', '--token', 'abc'])).toEqual([
      'web', '--key', REDACTED, `--passphrase-file=${REDACTED}`, '--cert', 'c.pem', '--token', REDACTED,
    ])
  })

  it('keeps a boolean flag that follows a secret flag without a value', () => {
    expect(redactArgv(['--api-key', '--json'])).toEqual(['--api-key', '--json'])
  })

  it('removes anything PEM-shaped, wherever it is', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----'
    expect(redactArgv(['create', pem, '--description', `x${pem}`, '--', pem])).toEqual(['create', REDACTED, '--description', REDACTED, '--', REDACTED])
    expect(redactArgv(['-----BEGIN'])).toEqual([REDACTED])
  })

  it('leaves ordinary command lines alone', () => {
    const argv = ['web', '--address', '198.18.0.11', '--protocol-port', '80', '--weight', '2']
    expect(redactArgv(argv)).toEqual(argv)
  })
})

describe('redactText', () => {
  it('cuts PEM blocks out of error messages', () => {
    const text = redactText('bad value "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----" here')
    expect(text).not.toContain('abc')
    expect(text).not.toContain('PRIVATE KEY')
    expect(redactText('plain message')).toBe('plain message')
  })
})
