import {describe, expect, it} from 'vitest'

import {gearmanSettings} from '../../../src/gearman/settings.js'
import {codeOf} from '../../helpers/errors.js'

describe('gearmanSettings (shared by serve-worker and the controller)', () => {
  it('reads --server values, then LBAAS_GEARMAN_SERVERS, then the fallback', () => {
    expect(gearmanSettings({servers: ['a:1,b:2'], env: {LBAAS_GEARMAN_SERVERS: 'x:5'}}).servers).toEqual([
      {host: 'a', port: 1},
      {host: 'b', port: 2},
    ])
    expect(gearmanSettings({env: {LBAAS_GEARMAN_SERVERS: 'x:5 y:6'}}).servers.map((server) => server.host)).toEqual(['x', 'y'])
    expect(gearmanSettings({env: {}}).servers).toEqual([])
    expect(gearmanSettings({env: {}, fallback: '127.0.0.1:4730'}).servers).toEqual([{host: '127.0.0.1', port: 4730}])
  })

  it('takes TLS files from LBAAS_GEARMAN_TLS_* unless given, and refuses part of them', () => {
    expect(gearmanSettings({env: {}}).tls).toBeUndefined()
    expect(gearmanSettings({env: {LBAAS_GEARMAN_TLS_CA: '/x'}, tls: {}}).tls).toBeUndefined()
    expect(codeOf(() => gearmanSettings({env: {LBAAS_GEARMAN_TLS_CA: '/nonexistent/ca.pem'}}))).toBe('tls_options_incomplete')
  })
})
