/**
 * A throw-away private CA and server certificates for `lbaas demo --tls`, made with the
 * real `openssl` (argv arrays; keys EC P-256, files 0600 in a 0700 directory). Not for
 * production: the CA key sits beside the certificates.
 */
import {chmodSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {makePrivateDirs} from '../util/fs.js'
import {run} from './run.js'

export interface LabCa {
  dir: string
  caFile: string
  caKeyFile: string
}

export interface LabLeaf {
  certFile: string
  keyFile: string
}

async function ecKey(file: string): Promise<void> {
  await run(['openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file])
  chmodSync(file, 0o600)
}

export async function makeLabCa(dir: string, commonName = 'lbaas lab CA'): Promise<LabCa> {
  makePrivateDirs(dir)
  const ca = {dir, caFile: join(dir, 'ca.crt'), caKeyFile: join(dir, 'ca.key')}
  await ecKey(ca.caKeyFile)
  await run(['openssl', 'req', '-x509', '-new', '-key', ca.caKeyFile, '-subj', `/CN=${commonName}`, '-days', '30', '-sha256',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', ca.caFile])
  return ca
}

/** A server certificate for `names` (DNS names), valid `days`, signed by the lab CA; `label` names its files. */
export async function issueLabCertificate(ca: LabCa, label: string, names: readonly string[], days = 90): Promise<LabLeaf> {
  if (!/^[a-z0-9-]{1,32}$/.test(label) || names.some((name) => !/^[a-z0-9.-]{1,253}$/.test(name))) {
    throw new Error(`internal: lab certificate ${JSON.stringify(label)} for ${JSON.stringify(names)}`)
  }
  const base = join(ca.dir, label)
  const leaf = {certFile: `${base}.crt`, keyFile: `${base}.key`}
  await ecKey(leaf.keyFile)
  await run(['openssl', 'req', '-new', '-key', leaf.keyFile, '-subj', `/CN=${names[0]}`, '-out', `${base}.csr`])
  writeFileSync(`${base}.ext`, `basicConstraints=critical,CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=${names.map((name) => `DNS:${name}`).join(',')}\n`)
  await run(['openssl', 'x509', '-req', '-in', `${base}.csr`, '-CA', ca.caFile, '-CAkey', ca.caKeyFile, '-CAcreateserial',
    '-days', String(days), '-sha256', '-extfile', `${base}.ext`, '-out', leaf.certFile])
  return leaf
}

/** Removes the lab CA's directory (keys included). */
export function removeLabCa(ca: LabCa): void {
  rmSync(ca.dir, {recursive: true, force: true})
}
