import {describe, expect, it} from 'vitest'

import {LbaasError} from '../../../src/domain/errors.js'
import {bindLine, renderConfig, renderCrtList} from '../../../src/haproxy/render.js'
import {buildPoolView} from '../../../src/haproxy/view.js'
import {samplePoolGraph, sampleRenderOptions} from '../../helpers/haproxy-factories.js'
import {GOLDEN_CASES, GOLDEN_CERT_DIR, GOLDEN_CERTS} from '../../helpers/haproxy-goldens.js'

const golden = GOLDEN_CASES.find((candidate) => candidate.file === 'terminated-https-sni-redirect.cfg')!

describe('TERMINATED_HTTPS rendering (SPEC §9)', () => {
  const view = buildPoolView(golden.graph, sampleRenderOptions(golden.options))

  it('lists the default certificate first, each certificate once, with its DNS SANs as SNI filters (no IP SANs)', async () => {
    expect(view.crtList!.entries.map((entry) => entry.certId)).toEqual([GOLDEN_CERTS[0].id, GOLDEN_CERTS[1].id])
    const text = renderCrtList(view.crtList!)
    expect(text).toBe(
      `${GOLDEN_CERT_DIR}/${GOLDEN_CERTS[0].id}.pem shop.example.test www.shop.example.test\n` +
        `${GOLDEN_CERT_DIR}/${GOLDEN_CERTS[1].id}.pem *.blog.example.test\n`,
    )
    await expect(text).toMatchFileSnapshot('../../fixtures/haproxy/terminated-https-sni-redirect.crt-list')
  })

  it('binds with the crt-list, h2 and http/1.1 by ALPN, TLS 1.2 at least; sets X-Forwarded-Proto; the backend adds X-Forwarded-For', () => {
    const config = renderConfig(view)
    expect(config).toContain(`bind 198.18.0.10:443 ssl crt-list ${GOLDEN_CERT_DIR}/crt-list alpn h2,http/1.1 ssl-min-ver TLSv1.2\n`)
    expect(config).toContain('http-request set-header X-Forwarded-Proto https\n')
    expect(config).toContain('option forwardfor\n')
  })

  it('adds a port-80 frontend answering 301 to https://', () => {
    const redirect = view.frontends[1]
    expect(redirect.binds).toEqual([{address: '198.18.0.10', port: 80, tls: null}])
    expect(renderConfig(view)).toContain('http-request redirect scheme https code 301\n')
  })

  it('spells out a port other than 443 in the redirect', () => {
    const graph = {...golden.graph, vip: {...golden.graph.vip!, protocol_port: 8443}}
    expect(renderConfig(buildPoolView(graph, sampleRenderOptions(golden.options)))).toContain(
      'http-request redirect location https://%[req.hdr(host),field(1,:)]:8443%[capture.req.uri] code 301',
    )
  })

  it('names every certificate digest in the header, so a rotation changes the file', () => {
    const rotated = {...golden.graph, certs: [{...GOLDEN_CERTS[0], cert_pem: 'leaf 1 renewed\n'}, GOLDEN_CERTS[1]]}
    const before = renderConfig(view)
    const after = renderConfig(buildPoolView(rotated, sampleRenderOptions(golden.options)))
    expect(after).not.toBe(before)
    expect(after.split('\n').filter((line, index) => line !== before.split('\n')[index])).toHaveLength(1)
    expect(before).not.toContain('leaf 1')
    expect(before).not.toContain('key 1')
  })

  it('a plain HTTP VIP has no crt-list, no TLS and no X-Forwarded-Proto', () => {
    const plain = buildPoolView(samplePoolGraph(), sampleRenderOptions())
    expect(plain.crtList).toBeNull()
    // (`httpclient.ssl.verify none` is in every global section: HAProxy's unused HTTP client.)
    expect(renderConfig(plain).replace('httpclient.ssl.verify none', '')).not.toMatch(/ssl|X-Forwarded-Proto/)
  })

  it('refuses a crt-list path or SNI filter that could split a line', () => {
    const refuse = (work: () => unknown) => expect(work).toThrow(LbaasError)
    refuse(() => renderCrtList({path: '/x/crt-list', entries: [{file: '/x/a b.pem', certId: 'a', sniFilters: []}]}))
    refuse(() => renderCrtList({path: '/x/crt-list', entries: [{file: '/x/a.pem', certId: 'a', sniFilters: ['a.test\n/etc/shadow']}]}))
    refuse(() => bindLine({address: '198.18.0.10', port: 443, tls: {crtList: '/x/crt list', alpn: ['h2'], minVersion: 'TLSv1.2'}}))
    refuse(() => bindLine({address: '198.18.0.10', port: 443, tls: {crtList: '/x/crt-list', alpn: ['h2 verify none'], minVersion: 'TLSv1.2'}}))
  })
})
