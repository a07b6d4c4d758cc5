import {describe, expect, it} from 'vitest'

import {runDiagnostics} from '../../../../src/worker/libra/diagnostics.js'

describe('DIAGNOSTICS', () => {
  const servers = [
    {host: '127.0.0.1', port: 4730},
    {host: '10.0.0.9', port: 4730},
  ]
  const reachable = async (target: {host: string}) => target.host === '127.0.0.1'

  it('checks every job server (host, and the port Libra left out) and the configured targets', async () => {
    const result = await runDiagnostics(servers, [{host: '192.0.2.1', port: 80}], reachable)
    expect(result.gearman).toEqual([
      {host: '127.0.0.1', port: 4730, status: 'PASS'},
      {host: '10.0.0.9', port: 4730, status: 'FAIL'},
    ])
    expect(result.network).toBe('FAIL')
    expect(result.network_targets).toEqual([{target: '192.0.2.1:80', status: 'FAIL'}])
  })

  it('checks each target with the default timeout (no array index passed as a timeout)', async () => {
    const calls: unknown[][] = []
    await runDiagnostics(servers, [{host: '192.0.2.1', port: 80}], async (...args: unknown[]) => {
      calls.push(args)
      return true
    })
    expect(calls).toHaveLength(3)
    for (const args of calls) expect(args).toHaveLength(1)
  })

  it('without targets, the network check is the job servers themselves (no hard-coded internet host)', async () => {
    const result = await runDiagnostics(servers, [], reachable)
    expect(result.network).toBe('PASS')
    expect(result.network_targets.map((entry) => entry.target)).toEqual(['127.0.0.1:4730', '10.0.0.9:4730'])
  })
})
