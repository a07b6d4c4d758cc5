/** The apply file before the planner: safe parsing, the JSON Schema and the value rules, every problem with its path. */
import {describe, expect, it} from 'vitest'
import {Ajv2020} from 'ajv/dist/2020.js'

import {MAX_FILE_BYTES, parseApplyText} from '../../../src/declarative/parse.js'
import {APPLY_FILE_SCHEMA} from '../../../src/declarative/schema.js'
import {validateApplyFile} from '../../../src/declarative/validate.js'

const GOOD = `
apiVersion: lbaas/v1
stack: shop
subnets:
  - {name: lab, cidr: 198.18.0.0/24}
monitors:
  - {name: http-check, type: HTTP, delay: 2, timeout: 1, max_retries: 2, url_path: /healthz}
pools:
  - name: web
    subnet: lab
    protocol: HTTP
    lb_method: ROUND_ROBIN
    monitors: [http-check]
    members:
      - {address: 198.18.0.11, protocol_port: 8000}
      - {address: 198.18.0.12, protocol_port: 8000, weight: 3}
    vip: {name: web-vip, protocol_port: 80, session_persistence: {type: HTTP_COOKIE}}
`

function problemsOf(text: string) {
  const parsed = parseApplyText(text)
  if (parsed.problems.length > 0) return parsed.problems
  return validateApplyFile(parsed.value, 10_000).problems
}

describe('apply file validation', () => {
  it('accepts the SPEC example and fills in the defaults', () => {
    const parsed = parseApplyText(GOOD)
    const {file, problems} = validateApplyFile(parsed.value, 10_000)
    expect(problems).toEqual([])
    expect(file!.pools[0].members[0]).toEqual({address: '198.18.0.11', protocol_port: 8000, weight: 1, admin_state_up: true})
    expect(file!.pools[0].vip).toMatchObject({protocol: 'HTTP', subnet: 'lab', connection_limit: -1, session_persistence: {type: 'HTTP_COOKIE'}})
    expect(file!.monitors[0]).toMatchObject({http_method: 'GET', expected_codes: '200'})
  })

  it('vip.syslog: null by default, IPv4:PORT or [IPv6]:PORT, a host name refused', () => {
    const {file} = validateApplyFile(parseApplyText(GOOD).value, 10_000)
    expect(file!.pools[0].vip!.syslog).toBeNull()
    const withSyslog = (value: string) => GOOD.replace('vip: {name: web-vip,', `vip: {syslog: "${value}", name: web-vip,`)
    expect(validateApplyFile(parseApplyText(withSyslog('[2001:DB8::5]:514')).value, 10_000).file!.pools[0].vip!.syslog).toBe('[2001:db8::5]:514')
    expect(problemsOf(withSyslog('logs.example:514'))).toEqual([expect.objectContaining({path: expect.stringContaining('syslog')})])
  })

  it('reads JSON the same way', () => {
    const json = JSON.stringify({apiVersion: 'lbaas/v1', stack: 's', pools: []})
    expect(problemsOf(json)).toEqual([])
  })

  it('lists every problem with its path', () => {
    const bad = GOOD.replace('weight: 3', 'weight: 300')
      .replace('timeout: 1', 'timeout: 9')
      .replace('name: lab,', 'name: "la b",')
      .replace('lb_method: ROUND_ROBIN', 'lb_method: ROUND_ROBIN\n    colour: blue')
      .replace('url_path: /healthz', 'url_path: "/a b"')
    const paths = problemsOf(bad).map((problem) => problem.path)
    expect(paths).toEqual(expect.arrayContaining([
      'pools[0].members[1].weight', 'monitors[0].timeout', 'subnets[0].name', 'pools[0].colour', 'monitors[0].url_path',
    ]))
    expect(problemsOf(bad).find((problem) => problem.path === 'pools[0].colour')!.message).toBe('unknown key')
    expect(problemsOf(bad).find((problem) => problem.path === 'pools[0].members[1].weight')!.message).toMatch(/between 0 and 256/)
  })

  it.each([
    ['a newline in a name', GOOD.replace('name: web\n', 'name: "we\\nb"\n'), 'pools[0].name'],
    ['# in a monitor name', GOOD.replace('name: http-check,', 'name: "http#check",'), 'monitors[0].name'],
    ['a NUL in a name', GOOD.replace('name: web\n', 'name: "we\\0b"\n'), 'pools[0].name'],
    ['an id-shaped subnet name', GOOD.replace('name: lab,', 'name: 6f1c2a9e-0000-4000-8000-000000000002,'), 'subnets[0].name'],
    ['a duplicate member', GOOD.replace('198.18.0.12, protocol_port: 8000', '198.18.0.11, protocol_port: 8000'), 'pools[0].members[1].address'],
    ['APP_COOKIE without a name', GOOD.replace('{type: HTTP_COOKIE}', '{type: APP_COOKIE}'), 'pools[0].vip.session_persistence'],
    ['a VIP protocol unlike the pool', GOOD.replace('protocol_port: 80,', 'protocol_port: 80, protocol: TCP,'), 'pools[0].vip.protocol'],
    ['no stack', GOOD.replace('stack: shop', ''), 'stack'],
  ])('refuses %s at its path', (_what, text, path) => {
    expect(problemsOf(text).map((problem) => problem.path)).toContain(path)
  })

  it.each([
    ['duplicate keys', 'apiVersion: lbaas/v1\nstack: a\nstack: b\n', /unique/],
    ['an alias bomb', `apiVersion: lbaas/v1\nstack: s\na0: &a0 [x,x,x,x,x,x,x,x,x,x]\n${Array.from({length: 9}, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(',')}]`).join('\n')}\n`, /alias/],
    ['deep flow nesting', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, /nests deeper/],
    ['deep block nesting', Array.from({length: 200}, (_, i) => `${' '.repeat(i * 2)}a:`).join('\n'), /nests deeper/],
    ['a file over the limit', `# ${'x'.repeat(MAX_FILE_BYTES)}\n`, /limited to/],
    ['a custom tag', 'apiVersion: lbaas/v1\nstack: !!js/function x\n', /tags/],
  ])('refuses %s', (_what, text, message) => {
    const {problems} = parseApplyText(text)
    expect(problems.length).toBeGreaterThan(0)
    expect(problems.map((problem) => problem.message).join(' ')).toMatch(message)
  })

  it('the schema is valid draft 2020-12 and has a description everywhere that matters', () => {
    const ajv = new Ajv2020({strict: true, strictTypes: false})
    expect(() => ajv.compile(APPLY_FILE_SCHEMA)).not.toThrow()
    expect(APPLY_FILE_SCHEMA.$schema).toBe('https://json-schema.org/draft/2020-12/schema')
    expect(APPLY_FILE_SCHEMA.properties.pools.items.properties.members.description).toBeTruthy()
  })
})
