/**
 * The pool graphs behind the golden configurations in test/fixtures/haproxy/*.cfg. The unit
 * test compares each render with its file; the integration test feeds the files (and the
 * same graphs rendered with real paths) to `haproxy -c`.
 */
import type {CertificateBundle, PoolGraph} from '../../src/domain/types.js'
import type {RenderOptions} from '../../src/haproxy/view.js'
import {GOLDEN_RUN_DIR, POOL_ID, monitorId, sampleMember, sampleMonitor, samplePoolGraph} from './haproxy-factories.js'

export interface GoldenCase {
  /** File name under test/fixtures/haproxy/. */
  file: string
  graph: PoolGraph
  /** Warnings the view must report, in order. */
  warnings: string[]
  /** Overrides of sampleRenderOptions(). */
  options?: Partial<RenderOptions>
}

/** Certificates of the TERMINATED_HTTPS golden: fixed ids and SANs, placeholder PEM (the integration check writes real ones). */
export const GOLDEN_CERTS: CertificateBundle[] = [
  {id: 'c0000000-0000-4000-8000-000000000001', sans: ['shop.example.test', 'www.shop.example.test', '198.18.0.10'], cert_pem: 'leaf 1\n', chain_pem: 'chain 1\n', key_pem: 'key 1\n'},
  {id: 'c0000000-0000-4000-8000-000000000002', sans: ['*.blog.example.test'], cert_pem: 'leaf 2\n', chain_pem: '', key_pem: 'key 2\n'},
]
export const GOLDEN_CERT_DIR = `${GOLDEN_RUN_DIR}/${POOL_ID}/tls`

export const GOLDEN_CASES: GoldenCase[] = [
  {
    // SPEC §9: default certificate first, SNI certificates by their DNS SANs, h2, TLS ≥ 1.2, 301 from port 80.
    file: 'terminated-https-sni-redirect.cfg',
    graph: samplePoolGraph({
      vip: {protocol: 'TERMINATED_HTTPS', protocol_port: 443, default_cert: GOLDEN_CERTS[0].id, sni_certs: [GOLDEN_CERTS[1].id, GOLDEN_CERTS[0].id], redirect_http: true},
      members: [sampleMember(1), sampleMember(2)],
      monitors: [sampleMonitor(1)],
      certs: GOLDEN_CERTS,
    }),
    options: {certDir: GOLDEN_CERT_DIR},
    warnings: [],
  },
  {
    file: 'http-cookie-http-monitor.cfg',
    graph: samplePoolGraph({
      vip: {session_persistence: {type: 'HTTP_COOKIE'}},
      members: [sampleMember(1), sampleMember(2, {weight: 3})],
      monitors: [sampleMonitor(1, {expected_codes: '200,201-203,302'})],
    }),
    warnings: [],
  },
  {
    file: 'tcp-source-ip-leastconn-tcp-monitor.cfg',
    graph: samplePoolGraph({
      pool: {protocol: 'TCP', lb_method: 'LEAST_CONNECTIONS'},
      vip: {protocol_port: 5432, session_persistence: {type: 'SOURCE_IP'}},
      members: [sampleMember(1, {protocol_port: 5432}), sampleMember(2, {protocol_port: 5432})],
      monitors: [sampleMonitor(1, {type: 'TCP', delay: 10, timeout: 5, max_retries: 2})],
    }),
    warnings: [],
  },
  {
    file: 'https-app-cookie-https-monitor.cfg',
    graph: samplePoolGraph({
      pool: {protocol: 'HTTPS', lb_method: 'SOURCE_IP'},
      vip: {protocol_port: 443, session_persistence: {type: 'APP_COOKIE', cookie_name: 'JSESSIONID'}},
      members: [sampleMember(1, {protocol_port: 8443}), sampleMember(2, {protocol_port: 8443})],
      monitors: [sampleMonitor(1, {type: 'HTTPS', url_path: '/status', expected_codes: '200-204'})],
    }),
    warnings: [
      'HTTPS is TLS pass-through: HAProxy cannot see cookies, so APP_COOKIE persistence has no effect; use SOURCE_IP',
    ],
  },
  {
    file: 'ipv6-source-ip.cfg',
    graph: samplePoolGraph({
      vip: {address: '2001:db8:18::10', session_persistence: {type: 'SOURCE_IP'}},
      members: [
        sampleMember(1, {address: '2001:db8:18::21'}),
        sampleMember(2, {address: '2001:db8:18::22', protocol_port: 80}),
      ],
      monitors: [sampleMonitor(1, {type: 'PING', delay: 2, timeout: 1, max_retries: 5})],
    }),
    warnings: [],
  },
  {
    file: 'admin-down.cfg',
    graph: samplePoolGraph({
      pool: {admin_state_up: false},
      vip: {admin_state_up: false},
      members: [sampleMember(1), sampleMember(2, {admin_state_up: false})],
      monitors: [sampleMonitor(1)],
    }),
    warnings: [],
  },
  {
    // SPEC §10: the access log goes to the ring and, as RFC 5424 over UDP, to the VIP's syslog server.
    file: 'syslog-ipv4.cfg',
    graph: samplePoolGraph({vip: {syslog: '127.0.0.1:5514'}, members: [sampleMember(1)]}),
    warnings: [],
  },
  {
    file: 'syslog-ipv6-tcp.cfg',
    graph: samplePoolGraph({
      pool: {protocol: 'TCP'},
      vip: {protocol_port: 5432, syslog: '[::1]:514'},
      members: [sampleMember(1, {protocol_port: 5432})],
    }),
    warnings: [],
  },
  {
    file: 'connection-limit.cfg',
    graph: samplePoolGraph({
      vip: {connection_limit: 500},
      members: [sampleMember(1), sampleMember(2)],
    }),
    warnings: [],
  },
  {
    file: 'no-monitor.cfg',
    graph: samplePoolGraph({
      pool: {lb_method: 'SOURCE_IP'},
      members: [
        sampleMember(1),
        sampleMember(2, {weight: 0}),
        sampleMember(3, {status: 'PENDING_DELETE'}),
        sampleMember(4, {status: 'ERROR'}),
      ],
      // Admin-down and disassociating monitors never drive HAProxy.
      monitors: [sampleMonitor(1, {admin_state_up: false}), sampleMonitor(2)],
      associations: [
        {pool_id: POOL_ID, monitor_id: monitorId(1), status: 'ACTIVE', status_description: null, position: 0},
        {pool_id: POOL_ID, monitor_id: monitorId(2), status: 'PENDING_DELETE', status_description: null, position: 1},
      ],
    }),
    warnings: [],
  },
  {
    // Values that pass validation (SPEC §1) yet need escaping in the file.
    file: 'escaped-values.cfg',
    graph: samplePoolGraph({
      vip: {session_persistence: {type: 'APP_COOKIE', cookie_name: "s'id#1$x`|~"}},
      monitors: [sampleMonitor(1, {url_path: `/health#check?a='b'&c="d"\\e$HOME{x}`})],
    }),
    options: {
      statsSocket: `/run/lbaas golden #1/${POOL_ID}/stats.sock`,
      serverStateFile: `/run/lbaas golden #1/${POOL_ID}/server-state`,
    },
    warnings: [],
  },
  {
    // HA peer a (SPEC §11): SOURCE_IP stick table shared with peer b through `peers`.
    file: 'ha-peer-source-ip.cfg',
    graph: samplePoolGraph({
      pool: {lb_method: 'ROUND_ROBIN'},
      vip: {session_persistence: {type: 'SOURCE_IP'}},
      members: [sampleMember(1), sampleMember(2)],
    }),
    options: {
      haPeers: {local: {name: 'peer-a', address: '198.18.0.31'}, remote: {name: 'peer-b', address: '198.18.0.32'}, port: 1025},
    },
    warnings: [],
  },
  {
    // HA peer b with APP_COOKIE: the string stick table is shared too.
    file: 'ha-peer-app-cookie.cfg',
    graph: samplePoolGraph({
      vip: {session_persistence: {type: 'APP_COOKIE', cookie_name: 'JSESSIONID'}},
      members: [sampleMember(1), sampleMember(2)],
    }),
    options: {
      haPeers: {local: {name: 'peer-b', address: '198.18.0.32'}, remote: {name: 'peer-a', address: '198.18.0.31'}, port: 1025},
    },
    warnings: [],
  },
]
