/** How `lbaas demo` tells its story on stdout: headings, notes, spread tables, the commands. */
import type {DemoReport, DemoReporter, Spread} from '../service/demo.js'
import type {HaDemoReport} from '../service/demo-ha.js'
import {formatList} from './format.js'

const BAR_WIDTH = 30

const indent = (text: string) => text.replace(/^(?=.)/gm, '   ')

export function spreadRows(spread: Spread): Record<string, string | number>[] {
  return spread.rows.map((row) => {
    const share = spread.sent === 0 ? 0 : row.requests / spread.sent
    return {
      backend: row.backend,
      address: row.address,
      health: row.operating_status,
      requests: row.requests,
      share: `${'█'.repeat(Math.round(share * BAR_WIDTH)).padEnd(BAR_WIDTH, '·')} ${Math.round(share * 100)}%`,
    }
  })
}

export function demoReporter(options: {color: boolean; write?: (text: string) => void}): DemoReporter {
  const write = options.write ?? ((text: string) => process.stdout.write(text))
  const bold = (text: string) => (options.color ? `\u001B[1m${text}\u001B[0m` : text)
  return {
    heading: async (text) => write(`\n${bold(text)}\n`),
    note: async (text) => write(`${indent(text)}\n`),
    async spread(spread) {
      const failed = spread.failed > 0 ? `, ${spread.failed} failed` : ''
      const table = await formatList(spreadRows(spread), ['backend', 'address', 'health', 'requests', 'share'], {
        format: 'table',
        columns: [],
        color: options.color,
      })
      write(`${indent(`${spread.title}: ${spread.sent} requests${failed}`)}\n${indent(table)}`)
    },
  }
}

/** The end of the story: the commands to paste, and how to clean up what was kept. */
export function demoEpilogue(report: DemoReport, color: boolean): string {
  const bold = (text: string) => (color ? `\u001B[1m${text}\u001B[0m` : text)
  const lines = [
    '',
    bold('The commands the demo ran, ready to paste (as root):'),
    '',
    ...report.commands.map((command) => `  ${command}`),
    '',
    bold(`Or all of this in one file (after \`lbaas lab up${report.subnet.name === 'lab' ? '' : ` --subnet ${report.subnet.name}`}\`): save it as demo.yaml, then \`lbaas apply -f demo.yaml\`:`),
    '',
    ...report.apply_file.trimEnd().split('\n').map((line) => `  ${line}`),
    '',
  ]
  if (report.kept) {
    lines.push(bold('Kept (--keep). Look around with `lbaas status`; to remove it:'), '', ...report.cleanup_commands.map((command) => `  ${command}`), '')
  } else {
    lines.push('Everything the demo created has been removed.', '')
  }
  return lines.join('\n')
}

/** The end of `demo --ha`: what happened in one paragraph, then the commands to paste. */
export function haDemoEpilogue(report: HaDemoReport, color: boolean): string {
  const bold = (text: string) => (color ? `\u001B[1m${text}\u001B[0m` : text)
  const before = report.master_before
  const after = report.master_after
  return [
    '',
    bold('What happened:'),
    `  peer ${before.role} (${before.agent}) was MASTER; its HAProxy was killed (PIDs ${report.killed_pids.join(', ')});`,
    `  ${report.vip.address} answered again after ${report.failover_seconds} s from peer ${after.role} (${after.agent});`,
    `  ${report.recovery_seconds} s after the kill peer ${before.role} was BACKUP again and peer ${after.role} kept the VIP.`,
    '',
    bold('The commands the demo ran, ready to paste (as root):'),
    '',
    ...report.commands.map((command) => `  ${command}`),
    '',
    'Everything the demo created has been removed.',
    '',
  ].join('\n')
}
