import {describe, expect, it} from 'vitest'

import {parseApplyText} from '../../../src/declarative/parse.js'
import {validateApplyFile} from '../../../src/declarative/validate.js'
import {DEMO_MONITOR, demoApplyFile, type DemoReport} from '../../../src/service/demo.js'
import {demoEpilogue, demoReporter, spreadRows} from '../../../src/ui/demo-view.js'

const spread = {
  title: 'lab-2 failing its health check',
  sent: 60,
  failed: 0,
  rows: [
    {backend: 'lab-1', address: '198.18.0.11', operating_status: 'ONLINE' as const, requests: 30},
    {backend: 'lab-2', address: '198.18.0.12', operating_status: 'OFFLINE' as const, requests: 0},
    {backend: 'lab-3', address: '198.18.0.13', operating_status: 'ONLINE' as const, requests: 30},
  ],
}

describe('the demo on stdout', () => {
  it('draws each backend share as a bar of 30 and a percentage', () => {
    const rows = spreadRows(spread)
    expect(rows.map((row) => row.share)).toEqual([`${'█'.repeat(15)}${'·'.repeat(15)} 50%`, `${'·'.repeat(30)} 0%`, `${'█'.repeat(15)}${'·'.repeat(15)} 50%`])
    expect(rows[1]).toMatchObject({backend: 'lab-2', health: 'OFFLINE', requests: 0})
  })

  it('writes headings, indented notes and titled tables, in order', async () => {
    let text = ''
    const reporter = demoReporter({color: false, write: (chunk) => (text += chunk)})
    await reporter.heading('6. lab-2 starts failing')
    await reporter.note('first\nsecond')
    await reporter.spread({...spread, failed: 2})
    expect(text).toMatch(/^\n6\. lab-2 starts failing\n {3}first\n {3}second\n {3}lab-2 failing its health check: 60 requests, 2 failed\n {3}┌/)
    expect(text).toMatch(/ {3}│ lab-2\s+│ 198\.18\.0\.12 │ OFFLINE │ 0\s+│/)
  })

  it('ends with the commands to paste, and with --keep how to remove what was kept', () => {
    const report: DemoReport = {
      subnet: {name: 'lab', cidr: '198.18.0.0/24', created: true},
      pool: 'demo-web',
      vip: {name: 'demo-web-vip', address: '198.18.0.2', protocol_port: 80},
      monitor: DEMO_MONITOR,
      spreads: [spread],
      taken_out: {backend: 'lab-2', seconds: 1.8, expected_seconds: 2},
      back_in: {backend: 'lab-2', seconds: 2, expected_seconds: 2},
      commands: ['lbaas lab up', 'lbaas pool create --name demo-web --subnet lab --protocol HTTP --lb-method ROUND_ROBIN'],
      kept: false,
      cleanup_commands: ['lbaas vip delete demo-web-vip --yes'],
      apply_file: demoApplyFile('lab', [{address: '198.18.0.11', port: 8000}], {address: '198.18.0.2', protocol_port: 80}),
    }
    const done = demoEpilogue(report, false)
    // The story ends with the same objects as one apply file, and that file is valid.
    expect(done).toContain('Or all of this in one file')
    const parsed = parseApplyText(report.apply_file)
    expect(validateApplyFile(parsed.value, 1000).problems).toEqual([])
    expect(done).toContain('ready to paste (as root):\n\n  lbaas lab up\n  lbaas pool create')
    expect(done).toContain('Everything the demo created has been removed.')
    expect(done).not.toContain('vip delete')
    const kept = demoEpilogue({...report, kept: true}, false)
    expect(kept).toContain('to remove it:\n\n  lbaas vip delete demo-web-vip --yes')
  })
})
