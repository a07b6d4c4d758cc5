/**
 * The `certs:` entries of an apply file (SPEC §8.1): their material read (files relative to
 * the file's directory) and checked exactly as `lbaas cert create` checks it (src/tls).
 * Problems carry the entry's path; the key is never part of a message.
 */
import {closeSync, fstatSync, openSync, readFileSync, constants} from 'node:fs'
import {isAbsolute, join} from 'node:path'

import {ValidationError} from '../domain/errors.js'
import type {DesiredCert, DesiredFile, Problem} from '../declarative/file.js'
import {keyDigest} from '../store/certificates.js'
import {checkBundle, type CheckedBundle} from '../tls/certificate.js'

/** A PEM file is small; anything bigger is not one. */
const MAX_PEM_BYTES = 1024 * 1024

/** Reads one named file: a regular file only (no FIFO, device or directory), opened once and checked on that descriptor. */
function readPemFile(baseDir: string, path: string): string {
  const full = isAbsolute(path) ? path : join(baseDir, path)
  let fd: number
  try {
    fd = openSync(full, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new Error(`cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}`)
  }
  try {
    const stats = fstatSync(fd)
    if (!stats.isFile()) throw new Error(`${path} is not a regular file`)
    if (stats.size > MAX_PEM_BYTES) throw new Error(`${path} is ${stats.size} bytes; a PEM file is at most ${MAX_PEM_BYTES}`)
    return readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
}

/** The key of the entry a src/tls field refers to: `key` → `key_file` or `key_pem`. */
function entryKey(cert: DesiredCert, field: string): string {
  const part = field === 'key' ? 'key' : field === 'chain' ? 'chain' : 'cert'
  return `${part}_${cert.source?.kind === 'inline' ? 'pem' : 'file'}`
}

export interface CheckedCerts {
  /** By certificate name: what a create or a rotation stores. */
  bundles: Map<string, CheckedBundle>
  problems: Problem[]
}

/** Reads and checks every entry with material; fills `checked` for the planner. */
export function checkFileCerts(file: DesiredFile, baseDir: string, now = new Date()): CheckedCerts {
  const bundles = new Map<string, CheckedBundle>()
  const problems: Problem[] = []
  file.certs.forEach((cert, index) => {
    const path = `certs[${index}]`
    const source = cert.source
    if (!source) return
    let input: {certText: string; keyText: string; chainText?: string}
    if (source.kind === 'inline') input = {certText: source.cert_pem, keyText: source.key_pem, chainText: source.chain_pem}
    else {
      const texts: Partial<Record<'cert_file' | 'key_file' | 'chain_file', string>> = {}
      for (const key of ['cert_file', 'key_file', 'chain_file'] as const) {
        const named = source[key]
        if (named === undefined) continue
        try {
          texts[key] = readPemFile(baseDir, named)
        } catch (error) {
          problems.push({path: `${path}.${key}`, message: (error as Error).message})
        }
      }
      if (texts.cert_file === undefined || texts.key_file === undefined || (source.chain_file !== undefined && texts.chain_file === undefined)) return
      input = {certText: texts.cert_file, keyText: texts.key_file, chainText: texts.chain_file}
    }
    try {
      const checked = checkBundle(input, now)
      bundles.set(cert.name, checked)
      cert.checked = {fingerprint_sha256: checked.facts.fingerprint_sha256, key_sha256: keyDigest(checked.material.key_pem)}
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error
      problems.push({path: `${path}.${entryKey(cert, error.field)}`, message: error.suggestion ? `${error.message}; ${error.suggestion}` : error.message})
    }
  })
  return {bundles, problems}
}
