/**
 * The guided forms of the create commands: each field from its flag, or asked on a
 * terminal (see guide.ts), validated with the flag's own rule. A form returns what the
 * service gets and the flags of the equivalent one-line command.
 */
import {LB_METHODS, MONITOR_TYPES, PROTOCOLS, VIP_PROTOCOLS, type Pool} from '../domain/types.js'
import * as rules from '../domain/validation.js'
import type {AppContext} from '../service/context.js'
import type {MemberInput} from '../service/members.js'
import type {MonitorInput} from '../service/monitors.js'
import type {PoolInput} from '../service/pools.js'
import {showPool} from '../service/pools.js'
import type {SubnetInput} from '../service/subnets.js'
import {subnetNetwork} from '../service/subnets.js'
import type {VipInput} from '../service/vips.js'
import {freeNetworkSuggestion, poolChoices, subnetChoices, subnetReference} from './choices.js'
import type {FlagValue, Guide} from './guide.js'
import type {Question} from './prompts.js'
import {askPersistence, DEFAULT_PORTS, descriptionQuestion} from './questions.js'

export interface Filled<T> {
  input: T
  /** Positional arguments and flags of the equivalent command line. */
  positionals: (string | undefined)[]
  flags: Record<string, FlagValue>
}

type Given = Record<string, unknown>
const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

export async function subnetForm(guide: Guide, ctx: AppContext, given: Given): Promise<Filled<SubnetInput>> {
  const name = await guide.required('name', text(given.name), {kind: 'input', message: 'Subnet name', validate: rules.subnetName}, {positional: true})
  const cidr = await guide.required('cidr', text(given.cidr), () => ({
    kind: 'input',
    message: 'Network (CIDR)',
    default: freeNetworkSuggestion(ctx),
    validate: subnetNetwork,
  }))
  const gateway = await guide.optional(text(given.gateway), {
    kind: 'input',
    message: 'Gateway address (empty: the first host address)',
    optional: true,
    validate: (value) => rules.ipAddress('gateway_ip', value),
  })
  const bridge = await guide.optional(text(given.bridge), {
    kind: 'input',
    message: 'Existing Linux bridge to use (empty: lbaas creates and owns one)',
    optional: true,
    validate: rules.bridgeName,
  })
  return {input: {name, cidr, gateway_ip: gateway, bridge}, positionals: [name], flags: {cidr, gateway, bridge}}
}

export async function poolForm(guide: Guide, ctx: AppContext, given: Given): Promise<Filled<PoolInput>> {
  const name = await guide.required('name', text(given.name), {kind: 'input', message: 'Pool name', validate: rules.displayName})
  const description = await guide.optional(text(given.description), descriptionQuestion)
  const subnet = await guide.required('subnet', text(given.subnet), () => ({
    kind: 'pick',
    message: 'Subnet of the members',
    choices: subnetChoices(ctx),
    other: 'another subnet…',
  }))
  const protocol = await guide.required('protocol', text(given.protocol), {kind: 'select', message: 'Protocol', choices: PROTOCOLS, default: 'HTTP'})
  const lbMethod = await guide.required('lb-method', text(given['lb-method']), {
    kind: 'select',
    message: 'Load-balancing method',
    choices: LB_METHODS,
    default: 'ROUND_ROBIN',
  })
  const adminDown = given['admin-state-down'] === true
  const agent = text(given.agent)
  return {
    input: {name, description, subnet, protocol, lb_method: lbMethod, admin_state_up: !adminDown, agent},
    positionals: [],
    flags: {name, description, subnet, protocol, 'lb-method': lbMethod, 'admin-state-down': adminDown, agent},
  }
}

export async function memberForm(guide: Guide, ctx: AppContext, given: Given): Promise<Filled<MemberInput & {pool: string}>> {
  const pool = await guide.required('pool', text(given.pool), () => ({kind: 'pick', message: 'Pool', choices: poolChoices(ctx), other: 'another pool…'}), {
    positional: true,
  })
  const address = await guide.required('address', text(given.address), {
    kind: 'input',
    message: 'Member address',
    validate: (value) => rules.ipAddress('address', value),
  })
  const port = await guide.required('protocol-port', text(given['protocol-port']), {kind: 'input', message: 'Member port', validate: rules.protocolPort})
  const weight = await guide.optional(text(given.weight), {
    kind: 'input',
    message: 'Weight, 0–256 (0: no new connections)',
    default: '1',
    validate: rules.weight,
  })
  const adminDown = given['admin-state-down'] === true
  return {
    input: {pool, address, protocol_port: port, weight, admin_state_up: !adminDown},
    positionals: [pool],
    flags: {address, 'protocol-port': port, weight, 'admin-state-down': adminDown},
  }
}

export async function monitorForm(guide: Guide, given: Given): Promise<Filled<MonitorInput>> {
  const type = await guide.required('type', text(given.type), {kind: 'select', message: 'Monitor type', choices: MONITOR_TYPES, default: 'HTTP'})
  const delay = await guide.required('delay', text(given.delay), {kind: 'input', message: 'Seconds between checks', default: '5', validate: rules.delay})
  const timeout = await guide.required('timeout', text(given.timeout), {
    kind: 'input',
    message: 'Seconds a check may take',
    default: String(Math.min(3, Number(delay) || 3)),
    validate: (value) => rules.timeoutWithinDelay(rules.timeout(value), rules.delay(delay)),
  })
  const maxRetries = await guide.required('max-retries', text(given['max-retries']), {
    kind: 'input',
    message: 'Checks in a row that take a member out (or bring it back), 1–10',
    default: '3',
    validate: rules.maxRetries,
  })
  // The HTTP fields are offered only for HTTP and HTTPS monitors.
  const http = ['HTTP', 'HTTPS'].includes(type.toUpperCase())
  const httpField = (flag: string, question: Question) => (http ? guide.optional(text(given[flag]), question) : Promise.resolve(text(given[flag])))
  const httpMethod = await httpField('http-method', {kind: 'input', message: 'HTTP method', default: 'GET', validate: rules.httpMethod})
  const urlPath = await httpField('url-path', {kind: 'input', message: 'URL path', default: '/', validate: rules.urlPath})
  const expectedCodes = await httpField('expected-codes', {
    kind: 'input',
    message: 'Healthy HTTP statuses (200, 200,202, 200-204)',
    default: '200',
    validate: rules.expectedCodes,
  })
  const adminDown = given['admin-state-down'] === true
  const name = text(given.name)
  return {
    input: {
      name,
      type,
      delay,
      timeout,
      max_retries: maxRetries,
      http_method: httpMethod,
      url_path: urlPath,
      expected_codes: expectedCodes,
      admin_state_up: !adminDown,
    },
    positionals: [],
    flags: {
      name,
      type,
      delay,
      timeout,
      'max-retries': maxRetries,
      'http-method': httpMethod,
      'url-path': urlPath,
      'expected-codes': expectedCodes,
      'admin-state-down': adminDown,
    },
  }
}

function findPool(ctx: AppContext, ref: string): Pool | undefined {
  try {
    return showPool(ctx, ref)
  } catch {
    return undefined // createVip reports it
  }
}

export async function vipForm(guide: Guide, ctx: AppContext, given: Given): Promise<Filled<VipInput & {pool: string}>> {
  const poolRef = await guide.required(
    'pool',
    text(given.pool),
    () => ({kind: 'pick', message: 'Pool to serve', choices: poolChoices(ctx, {withoutVip: true}), other: 'another pool…'}),
    {positional: true},
  )
  const pool = findPool(ctx, poolRef)
  const name = await guide.required('name', text(given.name), {kind: 'input', message: 'VIP name', default: pool && `${pool.name}-vip`, validate: rules.displayName})
  const protocol = await guide.required('protocol', text(given.protocol), {
    kind: 'select',
    message: "Protocol (the pool's, or TERMINATED_HTTPS on an HTTP pool)",
    choices: VIP_PROTOCOLS,
    default: pool?.protocol ?? 'HTTP',
  })
  const port = await guide.required('protocol-port', text(given['protocol-port']), {
    kind: 'input',
    message: 'Port to listen on',
    default: DEFAULT_PORTS[protocol.toUpperCase()],
    validate: rules.protocolPort,
  })
  const subnet = await guide.required('subnet', text(given.subnet), () => ({
    kind: 'pick',
    message: 'Subnet of the VIP address',
    choices: subnetChoices(ctx),
    default: pool && subnetReference(ctx, pool.subnet_id),
    other: 'another subnet…',
  }))
  const address = await guide.optional(text(given.address), {
    kind: 'input',
    message: 'VIP address (empty: the first free one)',
    optional: true,
    validate: (value) => rules.ipAddress('address', value),
  })
  const connectionLimit = await guide.optional(text(given['connection-limit']), {
    kind: 'input',
    message: `Connection limit (-1: unlimited, at most ${ctx.safeConnectionLimit()})`,
    default: '-1',
    validate: (value) => rules.connectionLimit(value, ctx.safeConnectionLimit()),
  })
  const persistence = await askPersistence(guide, text(given['session-persistence']), protocol)
  const description = await guide.optional(text(given.description), descriptionQuestion)
  const adminDown = given['admin-state-down'] === true
  const terminated = protocol.toUpperCase() === 'TERMINATED_HTTPS'
  const defaultCert = terminated
    ? await guide.required('default-cert', text(given['default-cert']), {kind: 'input', message: 'Default certificate (name or id; see `lbaas cert list`)'})
    : text(given['default-cert'])
  const sniCerts = Array.isArray(given['sni-cert']) ? (given['sni-cert'] as string[]) : []
  const redirectHttp = given['redirect-http'] === true
  return {
    input: {
      pool: poolRef,
      name,
      description,
      default_cert: defaultCert,
      sni_certs: sniCerts,
      redirect_http: redirectHttp,
      syslog: text(given.syslog),
      protocol,
      protocol_port: port,
      subnet,
      address,
      connection_limit: connectionLimit,
      session_persistence: persistence,
      admin_state_up: !adminDown,
    },
    positionals: [poolRef],
    flags: {
      name,
      protocol,
      'protocol-port': port,
      subnet,
      address,
      'connection-limit': connectionLimit,
      'session-persistence': persistence,
      description,
      'admin-state-down': adminDown,
      'default-cert': defaultCert,
      'sni-cert': sniCerts.length > 0 ? sniCerts : undefined,
      'redirect-http': redirectHttp,
      syslog: text(given.syslog),
    },
  }
}
