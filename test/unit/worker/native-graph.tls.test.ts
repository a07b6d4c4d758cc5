/**
 * SPEC §9 on agents: a DEPLOY carries the certificates of a TERMINATED_HTTPS VIP; the agent
 * checks them like `cert create`, stores them under the controller's ids, and forgets them
 * when no hosted VIP serves them.
 */
import {afterAll, afterEach, beforeEach, describe, expect, it} from 'vitest'

import type {PoolGraph} from '../../../src/domain/types.js'
import {createCertificate} from '../../../src/service/certificates.js'
import {createPool} from '../../../src/service/pools.js'
import {createSubnet} from '../../../src/service/subnets.js'
import {createVip} from '../../../src/service/vips.js'
import {getCertificateBundle, listCertificates} from '../../../src/store/certificates.js'
import {loadPoolGraph} from '../../../src/store/graph.js'
import {deleteHostedPool, upsertPoolGraph} from '../../../src/store/hosted-pools.js'
import {parsePoolGraph} from '../../../src/worker/native-graph.js'
import {CertLab} from '../../helpers/certs.js'
import {RecordingExecutor, testContext} from '../../helpers/context.js'
import {codeOf} from '../../helpers/errors.js'

const lab = new CertLab()
const shop = lab.issue('shop', {sans: ['shop.example.test']})
const other = lab.issue('other', {sans: ['other.example.test']})
let controller: ReturnType<typeof testContext>
let agent: ReturnType<typeof testContext>
let graph: PoolGraph

beforeEach(async () => {
  controller = testContext(new RecordingExecutor())
  agent = testContext(new RecordingExecutor())
  await createSubnet(controller, {name: 'lab', cidr: '198.18.0.0/24'})
  const pool = await createPool(controller, {name: 'web', subnet: 'lab', protocol: 'HTTP', lb_method: 'ROUND_ROBIN'})
  await createCertificate(controller, 'shop', {cert_file: shop.certFile, key_file: shop.keyFile, chain_file: lab.chainFile()})
  await createVip(controller, 'web', {name: 'v', protocol: 'TERMINATED_HTTPS', protocol_port: 443, subnet: 'lab', default_cert: 'shop'})
  graph = loadPoolGraph(controller.store.db, pool.id)!
})
afterEach(() => {
  controller.cleanup()
  agent.cleanup()
})
afterAll(() => lab.cleanup())

const wire = (value: PoolGraph) => JSON.parse(JSON.stringify(value)) as Record<string, any>

describe('DEPLOY with certificates', () => {
  it('carries the certificates the VIP serves, checked again by the agent', () => {
    const parsed = parsePoolGraph(wire(graph), 8000)
    expect(parsed.certs).toHaveLength(1)
    expect(parsed.certs[0]).toEqual(graph.certs[0])
    expect(parsed.vip).toMatchObject({protocol: 'TERMINATED_HTTPS', default_cert: graph.certs[0].id})
  })

  it('refuses a certificate whose key does not match, and a set of certificates that is not the VIP’s', () => {
    const mismatched = wire(graph)
    mismatched.certs[0].key_pem = other.key
    expect(codeOf(() => parsePoolGraph(mismatched, 8000))).toBe('invalid_key')
    const missing = wire(graph)
    missing.certs = []
    expect(codeOf(() => parsePoolGraph(missing, 8000))).toBe('invalid_certs')
  })

  it('stores them on the agent under the controller ids, and forgets them with the pool', () => {
    const parsed = parsePoolGraph(wire(graph), 8000)
    agent.store.write(() => upsertPoolGraph(agent.store.db, parsed))
    expect(loadPoolGraph(agent.store.db, graph.pool.id)!.certs).toEqual(graph.certs)
    expect(getCertificateBundle(agent.store.db, graph.certs[0].id)?.key_pem).toBe(graph.certs[0].key_pem)
    agent.store.write(() => deleteHostedPool(agent.store.db, graph.pool.id))
    expect(listCertificates(agent.store.db)).toEqual([])
  })
})
