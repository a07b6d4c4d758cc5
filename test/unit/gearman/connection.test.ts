import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterAll, describe, expect, it} from 'vitest'

import {UsageError} from '../../../src/domain/errors.js'
import {GearmanClient} from '../../../src/gearman/client.js'
import {backoffDelay, formatServer, loadTlsMaterial, parseServerAddress} from '../../../src/gearman/connection.js'
import {GearmanWorker} from '../../../src/gearman/worker.js'

const dir = mkdtempSync(join(tmpdir(), 'lbaas-gearman-unit-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function usageCode(run: () => unknown): string | undefined {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    return (error as UsageError).code
  }
  return undefined
}

describe('backoffDelay', () => {
  it('grows exponentially from 100 ms and caps at 5 s, with jitter in the upper half', () => {
    expect(backoffDelay(0, undefined, () => 0)).toBe(50)
    expect(backoffDelay(0, undefined, () => 1)).toBe(100)
    expect(backoffDelay(3, undefined, () => 1)).toBe(800)
    expect(backoffDelay(6, undefined, () => 1)).toBe(5_000)
    expect(backoffDelay(1_000, undefined, () => 1)).toBe(5_000)
    expect(backoffDelay(1_000, undefined, () => 0)).toBe(2_500)
    for (let failures = 0; failures < 20; failures++) {
      const delay = backoffDelay(failures)
      expect(delay).toBeGreaterThanOrEqual(50)
      expect(delay).toBeLessThanOrEqual(5_000)
    }
  })
})

describe('parseServerAddress', () => {
  it('accepts host:port, a bare host, and bracketed IPv6', () => {
    expect(parseServerAddress('127.0.0.1:4731')).toEqual({host: '127.0.0.1', port: 4731})
    expect(parseServerAddress('gearman.example')).toEqual({host: 'gearman.example', port: 4730})
    expect(parseServerAddress('[::1]:4732')).toEqual({host: '::1', port: 4732})
    expect(parseServerAddress('[::1]')).toEqual({host: '::1', port: 4730})
    expect(formatServer({host: '::1', port: 4732})).toBe('[::1]:4732')
  })

  it('refuses bad ports and unbracketed IPv6 with a UsageError', () => {
    for (const text of ['host:0', 'host:65536', 'host:x', '::1:4730', '', 'a b:1']) {
      expect(usageCode(() => parseServerAddress(text))).toBe('invalid_gearman_server')
    }
  })
})

describe('loadTlsMaterial', () => {
  const files = {ca: join(dir, 'ca.pem'), cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem')}
  writeFileSync(files.ca, 'CA')
  writeFileSync(files.cert, 'CERT')
  writeFileSync(files.key, 'KEY')

  it('is off with no files and reads all three otherwise', () => {
    expect(loadTlsMaterial(undefined)).toBeUndefined()
    expect(loadTlsMaterial({})).toBeUndefined()
    const material = loadTlsMaterial(files)!
    expect(material.ca.toString()).toBe('CA')
    expect(material.cert.toString()).toBe('CERT')
    expect(material.key.toString()).toBe('KEY')
  })

  it('refuses a partial set (Libra silently fell back to plaintext)', () => {
    expect(usageCode(() => loadTlsMaterial({ca: files.ca}))).toBe('tls_options_incomplete')
    expect(usageCode(() => loadTlsMaterial({cert: files.cert, key: files.key}))).toBe('tls_options_incomplete')
    expect(usageCode(() => loadTlsMaterial({ca: files.ca, cert: files.cert, key: ''}))).toBe('tls_options_incomplete')
  })

  it('refuses an unreadable file', () => {
    expect(usageCode(() => loadTlsMaterial({...files, key: join(dir, 'missing.pem')}))).toBe('tls_file_unreadable')
  })

  it('makes the worker and the client refuse partial TLS before connecting', () => {
    const servers = [{host: '127.0.0.1', port: 1}]
    expect(
      usageCode(() => new GearmanWorker({servers, functionName: 'f', clientId: 'c', tls: {ca: files.ca}}, async () => '')),
    ).toBe('tls_options_incomplete')
    expect(usageCode(() => new GearmanClient({servers, tls: {key: files.key}}))).toBe('tls_options_incomplete')
  })
})

describe('GearmanWorker options', () => {
  it('refuses no servers, a bad function name and a bad concurrency', () => {
    const handler = async () => ''
    const servers = [{host: '127.0.0.1', port: 1}]
    expect(usageCode(() => new GearmanWorker({servers: [], functionName: 'f', clientId: 'c'}, handler))).toBe('gearman_no_servers')
    expect(usageCode(() => new GearmanWorker({servers, functionName: '', clientId: 'c'}, handler))).toBe('gearman_function_name')
    expect(usageCode(() => new GearmanWorker({servers, functionName: 'f', clientId: 'c', maxInFlight: 0}, handler))).toBe(
      'gearman_concurrency',
    )
  })
})
