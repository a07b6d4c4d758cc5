/**
 * SPEC §9 at the service level: certificates on TERMINATED_HTTPS VIPs, the graph the
 * executor receives, rotation (and what a refused rotation leaves), and deletion in use.
 */
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'

import {RuntimeFailure} from '../../../src/domain/errors.js'
import type {CertificateBundle, PoolGraph} from '../../../src/domain/types.js'
import {createCertificate, deleteCertificate, showCertificate, updateCertificate} from '../../../src/service/certificates.js'
import type {DeployOutcome} from '../../../src/executor/port.js'
import {createPool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {createVip, updateVip} from '../../../src/service/vips.js'
import {CertLab, type Made} from '../../helpers/certs.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'
import {codeOf, rejectionOf} from '../../helpers/errors.js'

/** Records rotations; can refuse them like HAProxy would. */
class RotatingExecutor extends RecordingExecutor {
  refuseRotation = false
  rotations: {graph: PoolGraph; previous: readonly CertificateBundle[]}[] = []

  async rotateCertificates(graph: PoolGraph, previous: readonly CertificateBundle[]): Promise<DeployOutcome> {
    if (this.refuseRotation) throw new RuntimeFailure('haproxy_runtime_refused', 'HAProxy refused `set ssl cert`')
    this.rotations.push({graph, previous})
    return {state: 'serving', reloaded: false, description: null, warnings: []}
  }
}

const lab = new CertLab()
let shop: Made
let blog: Made
let executor: RotatingExecutor
let ctx: ReturnType<typeof testContext>

beforeAll(() => {
  shop = lab.issue('shop', {sans: ['shop.example.test']})
  blog = lab.issue('blog', {sans: ['*.blog.example.test'], key: 'rsa2048'})
})
afterAll(() => lab.cleanup())
beforeEach(async () => {
  executor = new RotatingExecutor()
  ctx = testContext(executor)
  await createSubnet(ctx, {name: 'lab', cidr: '198.18.0.0/24'})
  await createPool(ctx, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
  await createPool(ctx, {name: 'tls', subnet: 'lab', protocol: 'HTTPS', lb_method: 'ROUND_ROBIN'})
  await createCertificate(ctx, 'shop', {cert_file: shop.certFile, key_file: shop.keyFile, chain_file: lab.chainFile()})
  await createCertificate(ctx, 'blog', {cert_file: blog.certFile, key_file: blog.keyFile})
})
afterEach(() => ctx.cleanup())

const httpsVip = (extra: Record<string, unknown> = {}) =>
  createVip(ctx, 'web', {name: 'v', protocol: 'TERMINATED_HTTPS', protocol_port: '443', subnet: 'lab', default_cert: 'shop', ...extra})

describe('TERMINATED_HTTPS VIPs', () => {
  it('hands the executor the certificates, default first, and records ids in the VIP', async () => {
    const vip = await httpsVip({sni_certs: ['blog', 'shop'], redirect_http: true})
    const shopId = showCertificate(ctx, 'shop').id
    const blogId = showCertificate(ctx, 'blog').id
    expect(vip).toMatchObject({protocol: 'TERMINATED_HTTPS', default_cert: shopId, sni_certs: [blogId, shopId], redirect_http: true})
    const graph = executor.calls.at(-1)!.graph!
    expect(graph.certs.map((cert) => cert.id)).toEqual([shopId, blogId])
    expect(graph.certs[0].key_pem).toContain('PRIVATE KEY')
    expect(showCertificate(ctx, 'blog').used_by).toEqual([vip.id])
  })

  it('refuses TLS on a non-HTTP pool, without a default certificate, TLS fields on a plain VIP, and a redirect on port 80', async () => {
    expect(await codeOf(createVip(ctx, 'tls', {name: 'v', protocol: 'TERMINATED_HTTPS', protocol_port: '443', subnet: 'lab', default_cert: 'shop'}))).toBe('invalid_protocol')
    expect(await codeOf(httpsVip({default_cert: undefined}))).toBe('invalid_default_cert')
    expect(await codeOf(httpsVip({default_cert: 'nope'}))).toBe('not_found')
    expect(await codeOf(createVip(ctx, 'web', {name: 'v', protocol: 'HTTP', protocol_port: '80', subnet: 'lab', default_cert: 'shop'}))).toBe('invalid_default_cert')
    expect(await codeOf(httpsVip({protocol_port: '80', redirect_http: true}))).toBe('invalid_redirect_http')
    expect(executor.calls.filter((call) => call.method === 'deploy')).toEqual([])
  })

  it('updates the certificates of a VIP', async () => {
    const vip = await httpsVip()
    const updated = await updateVip(ctx, vip.id, {default_cert: 'blog', sni_certs: ['shop']})
    expect(updated).toMatchObject({default_cert: showCertificate(ctx, 'blog').id, sni_certs: [showCertificate(ctx, 'shop').id]})
    expect((await updateVip(ctx, vip.id, {sni_certs: []})).sni_certs).toEqual([])
  })

  it('refuses to delete a certificate in use (conflict)', async () => {
    await httpsVip()
    expect((await rejectionOf(Promise.resolve().then(() => deleteCertificate(ctx, 'shop'))))?.exit).toBe(4)
    expect(deleteCertificate(ctx, 'blog').name).toBe('blog')
  })
})

describe('cert update (rotation)', () => {
  it('rotates every VIP using it, with the old certificates as "previous", then stores the new one', async () => {
    await httpsVip()
    const renewed = lab.issue('shop-renewed', {sans: ['shop.example.test']})
    const before = showCertificate(ctx, 'shop').fingerprint_sha256
    const result = await updateCertificate(ctx, 'shop', {cert_file: renewed.certFile, key_file: renewed.keyFile})
    expect(executor.rotations).toHaveLength(1)
    const [rotation] = executor.rotations
    expect(rotation.graph.certs[0].cert_pem).not.toBe(rotation.previous[0].cert_pem)
    expect(result.certificate.fingerprint_sha256).not.toBe(before)
    expect(executor.methods()).not.toContain('applyRuntime')
  })

  it('keeps the old certificate in the state file when HAProxy refuses the rotation', async () => {
    await httpsVip()
    const before = showCertificate(ctx, 'shop')
    executor.refuseRotation = true
    const renewed = lab.issue('shop-refused', {sans: ['shop.example.test']})
    expect(await codeOf(updateCertificate(ctx, 'shop', {cert_file: renewed.certFile, key_file: renewed.keyFile}))).toBe('haproxy_runtime_refused')
    expect(showCertificate(ctx, 'shop')).toEqual(before)
  })
})
