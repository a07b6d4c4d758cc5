import {Flags} from '@oclif/core'

import {MONITOR_TYPES, type Monitor} from '../../src/domain/types.js'
import * as rules from '../../src/domain/validation.js'
import {createMonitor} from '../../src/service/monitors.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'
import type {Question} from '../../src/ui/prompts.js'

export default class MonitorCreate extends LbaasCommand {
  static summary = 'Create a health monitor (then associate it with a pool)'
  static description =
    'In HAProxy terms: delay is the check interval, timeout the check timeout, and max_retries both fall and rise: ' +
    'a member is taken out after max_retries failed checks in a row and brought back after as many passed ones. ' +
    'PING is a TCP connect check (HAProxy cannot ping). A monitor does nothing until `lbaas monitor associate MONITOR POOL`. ' +
    'Run with no flags on a terminal to be asked for each value; the equivalent one-line command is printed at the end.'
  static examples = [
    '<%= config.bin %> monitor create --type HTTP --delay 2 --timeout 1 --max-retries 2 --url-path /healthz --expected-codes 200',
    '<%= config.bin %> monitor create --type TCP --delay 5 --timeout 3 --max-retries 3',
    {description: 'On a terminal: asked for each value, then shown the one-line command', command: '<%= config.bin %> monitor create'},
  ]
  static flags = {
    type: Flags.string({description: 'PING, TCP, HTTP or HTTPS (PING is a TCP connect check)'}),
    delay: Flags.string({description: 'seconds between checks (≥ 1)'}),
    timeout: Flags.string({description: 'seconds a check may take (≥ 1, ≤ delay)'}),
    'max-retries': Flags.string({description: 'failed or passed checks before a member changes state, 1–10'}),
    'http-method': Flags.string({description: 'HTTP method of the check [default: GET]'}),
    'url-path': Flags.string({description: 'path of the check, starting with / [default: /]'}),
    'expected-codes': Flags.string({description: 'healthy statuses: 200, 200,202, 200-204 or 200,201-203 [default: 200]'}),
    'admin-state-down': Flags.boolean({description: 'create the monitor administratively down'}),
  }

  async run(): Promise<Monitor> {
    const {flags} = await this.parseCommand(MonitorCreate)
    const guide = this.guide(flags)
    const type = await guide.required('type', flags.type, {kind: 'select', message: 'Monitor type', choices: MONITOR_TYPES, default: 'HTTP'})
    const delay = await guide.required('delay', flags.delay, {kind: 'input', message: 'Seconds between checks', default: '5', validate: rules.delay})
    const timeout = await guide.required('timeout', flags.timeout, {
      kind: 'input',
      message: 'Seconds a check may take',
      default: String(Math.min(3, Number(delay) || 3)),
      validate: (value) => rules.timeoutWithinDelay(rules.timeout(value), rules.delay(delay)),
    })
    const maxRetries = await guide.required('max-retries', flags['max-retries'], {
      kind: 'input',
      message: 'Checks in a row that take a member out (or bring it back), 1–10',
      default: '3',
      validate: rules.maxRetries,
    })
    // The HTTP fields are offered only for HTTP and HTTPS monitors.
    const http = ['HTTP', 'HTTPS'].includes(type.toUpperCase())
    const httpField = (given: string | undefined, question: Question) => (http ? guide.optional(given, question) : Promise.resolve(given))
    const httpMethod = await httpField(flags['http-method'], {kind: 'input', message: 'HTTP method', default: 'GET', validate: rules.httpMethod})
    const urlPath = await httpField(flags['url-path'], {kind: 'input', message: 'URL path', default: '/', validate: rules.urlPath})
    const expectedCodes = await httpField(flags['expected-codes'], {
      kind: 'input',
      message: 'Healthy HTTP statuses (200, 200,202, 200-204)',
      default: '200',
      validate: rules.expectedCodes,
    })
    const monitor = await createMonitor(await this.ctx, {
      type,
      delay,
      timeout,
      max_retries: maxRetries,
      http_method: httpMethod,
      url_path: urlPath,
      expected_codes: expectedCodes,
      admin_state_up: !flags['admin-state-down'],
    })
    await this.show(monitor)
    await this.printEquivalent(guide, [], {
      type,
      delay,
      timeout,
      'max-retries': maxRetries,
      'http-method': httpMethod,
      'url-path': urlPath,
      'expected-codes': expectedCodes,
      'admin-state-down': flags['admin-state-down'],
    })
    return monitor
  }
}
