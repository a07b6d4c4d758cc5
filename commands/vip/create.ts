import {Args, Flags} from '@oclif/core'

import {PROTOCOLS, type Pool, type Vip} from '../../src/domain/types.js'
import * as rules from '../../src/domain/validation.js'
import type {AppContext} from '../../src/service/context.js'
import {showPool} from '../../src/service/pools.js'
import {createVip} from '../../src/service/vips.js'
import {poolChoices, subnetChoices, subnetReference} from '../../src/ui/choices.js'
import {LbaasCommand} from '../../src/ui/lbaas-command.js'
import {askPersistence, DEFAULT_PORTS, descriptionQuestion} from '../../src/ui/questions.js'

export default class VipCreate extends LbaasCommand {
  static summary = 'Create the VIP of a pool: deploys the pool on this host'
  static description =
    "Deploying means: a network namespace holding the VIP address, plugged into the subnet's bridge; an HAProxy " +
    'configuration checked with haproxy -c; HAProxy started. Every later change reloads it without dropping a connection. ' +
    'The address defaults to the first free one in the subnet. ' +
    'Run with no flags on a terminal to be asked for each value (existing objects offered from a list); the equivalent one-line command is printed at the end.'
  static examples = [
    '<%= config.bin %> vip create web --name web-vip --protocol HTTP --protocol-port 80 --subnet lab',
    '<%= config.bin %> vip create web --name web-vip --protocol HTTP --protocol-port 80 --subnet lab --address 198.18.0.100 --session-persistence APP_COOKIE:JSESSIONID',
    {description: 'On a terminal: asked for each value, then shown the one-line command', command: '<%= config.bin %> vip create'},
  ]
  static args = {pool: Args.string({description: 'pool name or id'})}
  static flags = {
    name: Flags.string({description: 'VIP name'}),
    protocol: Flags.string({description: "HTTP, HTTPS or TCP (the pool's protocol)"}),
    'protocol-port': Flags.string({description: 'port the VIP listens on, 1–65535'}),
    subnet: Flags.string({description: 'subnet of the VIP address (name or id)'}),
    address: Flags.string({description: 'VIP address inside the subnet (default: the first free one)'}),
    'connection-limit': Flags.string({description: '-1 (unlimited) or 1 to the safe maximum `lbaas doctor` shows [default: -1]'}),
    'session-persistence': Flags.string({description: 'SOURCE_IP, HTTP_COOKIE or APP_COOKIE:COOKIE_NAME'}),
    description: Flags.string({description: 'free text'}),
    'admin-state-down': Flags.boolean({description: 'create the VIP administratively down'}),
  }

  async run(): Promise<Vip> {
    const {args, flags} = await this.parseCommand(VipCreate)
    const ctx = await this.ctx
    const guide = this.guide({...args, ...flags})
    const poolRef = await guide.required(
      'pool',
      args.pool,
      () => ({kind: 'pick', message: 'Pool to serve', choices: poolChoices(ctx, {withoutVip: true}), other: 'another pool…'}),
      {positional: true},
    )
    const pool = findPool(ctx, poolRef)
    const name = await guide.required('name', flags.name, {kind: 'input', message: 'VIP name', default: pool && `${pool.name}-vip`, validate: rules.displayName})
    const protocol = await guide.required('protocol', flags.protocol, {
      kind: 'select',
      message: "Protocol (the pool's)",
      choices: PROTOCOLS,
      default: pool?.protocol ?? 'HTTP',
    })
    const port = await guide.required('protocol-port', flags['protocol-port'], {
      kind: 'input',
      message: 'Port to listen on',
      default: DEFAULT_PORTS[protocol.toUpperCase()],
      validate: rules.protocolPort,
    })
    const subnet = await guide.required('subnet', flags.subnet, () => ({
      kind: 'pick',
      message: 'Subnet of the VIP address',
      choices: subnetChoices(ctx),
      default: pool && subnetReference(ctx, pool.subnet_id),
      other: 'another subnet…',
    }))
    const address = await guide.optional(flags.address, {
      kind: 'input',
      message: 'VIP address (empty: the first free one)',
      optional: true,
      validate: (value) => rules.ipAddress('address', value),
    })
    const connectionLimit = await guide.optional(flags['connection-limit'], {
      kind: 'input',
      message: `Connection limit (-1: unlimited, at most ${ctx.safeConnectionLimit()})`,
      default: '-1',
      validate: (value) => rules.connectionLimit(value, ctx.safeConnectionLimit()),
    })
    const persistence = await askPersistence(guide, flags['session-persistence'], protocol)
    const description = await guide.optional(flags.description, descriptionQuestion)
    const vip = await createVip(ctx, poolRef, {
      name,
      description,
      protocol,
      protocol_port: port,
      subnet,
      address,
      connection_limit: connectionLimit,
      session_persistence: persistence,
      admin_state_up: !flags['admin-state-down'],
    })
    await this.show(vip)
    await this.printEquivalent(guide, [poolRef], {
      name,
      protocol,
      'protocol-port': port,
      subnet,
      address,
      'connection-limit': connectionLimit,
      'session-persistence': persistence,
      description,
      'admin-state-down': flags['admin-state-down'],
    })
    return vip
  }
}

function findPool(ctx: AppContext, ref: string): Pool | undefined {
  try {
    return showPool(ctx, ref)
  } catch {
    return undefined // createVip reports it
  }
}
