/**
 * `lbaas` and `lbaas --help`: what the tool is, the LBaaS v1 workflow in the order an
 * operator walks it (with a command for each step), then the topics and commands in that
 * same order instead of alphabetically. Command and topic help stay oclif's own.
 */
import {Help, type Interfaces} from '@oclif/core'

/** Topics and top-level commands in the order of the workflow; anything else follows, sorted. */
const TOPIC_ORDER = ['lab', 'subnet', 'pool', 'member', 'monitor', 'vip', 'agent']
const COMMAND_ORDER = ['demo', 'status', 'sync', 'doctor', 'serve-worker']

/** [step, command, what it does]: the step number is shown on the first command of a step. */
const WORKFLOW: [number, string, string][] = [
  [1, 'subnet create NAME --cidr CIDR', 'the network of members and VIPs'],
  [1, 'lab up', 'or: a lab subnet with backends'],
  [2, 'pool create', 'the pool: protocol, method'],
  [3, 'member create POOL', 'its backend servers'],
  [4, 'monitor create', 'a health monitor'],
  [5, 'monitor associate MONITOR POOL', 'the pool now checks its members'],
  [6, 'vip create POOL', 'its address: deploys HAProxy'],
  [7, 'status', 'VIP → pool → members, live health'],
  [7, 'pool stats POOL --watch', 'or: traffic per member, live'],
]

function ordered<T>(items: readonly T[], name: (item: T) => string, order: readonly string[]): T[] {
  const rank = (item: T) => {
    const index = order.indexOf(name(item))
    return index === -1 ? order.length : index
  }
  return [...items].sort((a, b) => rank(a) - rank(b) || name(a).localeCompare(name(b)))
}

export default class LbaasHelp extends Help {
  protected override async showRootHelp(): Promise<void> {
    const bin = this.config.bin
    const description = this.config.pjson.description ?? ''
    const steps = WORKFLOW.map(([step, command, what], index): [string, string] => {
      const first = index === 0 || WORKFLOW[index - 1][0] !== step
      return [`${first ? `${step}.` : '  '} ${bin} ${command}`, what]
    })
    const topics: Interfaces.Topic[] = ordered(
      this.sortedTopics.filter((topic) => !topic.name.includes(':')),
      (topic) => topic.name,
      TOPIC_ORDER,
    )
    const commands = ordered(
      this.sortedCommands.filter((command) => command.id && !command.id.includes(':')),
      (command) => command.id,
      COMMAND_ORDER,
    )
    this.log(
      [
        this.wrap(description),
        this.section('USAGE', `$ ${bin} COMMAND [ARGS] [FLAGS]`),
        this.section('THE WORKFLOW, IN ORDER', this.renderList(steps, {indentation: 2, spacer: '\n'})),
        this.wrap(`Or let \`${bin} demo\` walk it on a lab, end to end, and print the commands to repeat it.`),
        this.formatTopics(topics),
        this.formatCommands(commands),
        this.wrap(
          `\`${bin} TOPIC\` lists a topic's commands; \`${bin} COMMAND --help\` shows flags and examples. ` +
            'Create commands run with no flags on a terminal ask for each value. ' +
            'Every command takes --json, -f table|json|yaml|value|csv and -c COLUMN.',
        ),
      ].join('\n\n') + '\n',
    )
  }
}
