/**
 * Guided creation in a real terminal (tmux): `lbaas pool create` and `lbaas monitor create`
 * with no flags ask for every field, offer existing subnets and enum values with the
 * default highlighted, reject a bad value as it is entered with the flag's own message,
 * create the object, and print the one-line command that does the same, which works.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {BIN, cliFor, errorOf} from '../../helpers/cli.js'
import {checkCommandLine, loadManifest, shellWords} from '../../helpers/manifest.js'
import {TmuxSession} from '../../helpers/tmux.js'
import {tempDir} from '../../helpers/tmp.js'
import {claimTestCidr, uniqueSuffix} from '../../helpers/unique.js'

const dir = tempDir('lbaas-guided-')
const cli = cliFor(dir.path)
const cidr = claimTestCidr()
const subnet = `gd${uniqueSuffix(5)}`
const sessions: TmuxSession[] = []

beforeAll(async () => {
  await cli.value(['subnet', 'create', subnet, '--cidr', cidr.cidr])
})

afterAll(async () => {
  try {
    for (const session of sessions) session.kill()
    for (const id of (await cli.value(['pool', 'list', '-f', 'value', '-c', 'id'])).split('\n').filter(Boolean)) {
      await cli.run(['pool', 'delete', id, '--yes'])
    }
    for (const id of (await cli.value(['monitor', 'list', '-f', 'value', '-c', 'id'])).split('\n').filter(Boolean)) {
      await cli.run(['monitor', 'delete', id, '--yes'])
    }
    await cli.run(['subnet', 'delete', subnet, '--yes'])
  } finally {
    cidr.release()
    dir.cleanup()
  }
})

function terminal(args: string): TmuxSession {
  const session = TmuxSession.start(`${process.execPath} ${BIN} ${args}`, cli.env)
  sessions.push(session)
  return session
}

/** The line printed under "The same without prompts:". */
function equivalentCommand(screen: string): string {
  const lines = screen.split('\n')
  const index = lines.findIndex((line) => line.startsWith('The same without prompts:'))
  expect(index, screen).toBeGreaterThanOrEqual(0)
  return lines[index + 1].trim()
}

describe('guided creation on a terminal', () => {
  it('pool create walks through every field, validates as typed, and prints the command', async () => {
    const term = terminal('pool create')
    await term.waitFor('? Pool name')
    term.type('0b8f3f6e-8a4f-4c55-9d1e-2c9f4b1f8a10')
    term.keys('Enter')
    await term.waitFor('looks like an id; choose a name that does not')
    term.keys('C-u')
    term.type('guided-web')
    term.keys('Enter')
    await term.waitFor('? Description (optional)')
    term.type('made by answering questions')
    term.keys('Enter')
    // Existing subnets are offered by name, with a way out to type another.
    let screen = await term.waitFor('? Subnet of the members')
    expect(screen).toContain(`❯ ${subnet}  ${cidr.cidr}`)
    expect(screen).toContain('another subnet…')
    term.keys('Enter')
    // Enum lists start on the default.
    screen = await term.waitFor('? Protocol')
    expect(screen).toMatch(/❯ HTTP\n\s+HTTPS\n\s+TCP/)
    term.keys('Down', 'Down', 'Enter')
    screen = await term.waitFor('? Load-balancing method')
    expect(screen).toMatch(/❯ ROUND_ROBIN\n\s+LEAST_CONNECTIONS\n\s+SOURCE_IP/)
    term.keys('Down', 'Enter')
    screen = await term.waitFor('EXIT=')
    expect(screen).toContain('EXIT=0')
    expect(screen).toMatch(/│ name\s+│ guided-web\s+│/)

    const line = equivalentCommand(screen)
    expect(line).toBe(
      `lbaas pool create --name guided-web --description 'made by answering questions' --subnet ${subnet} --protocol TCP --lb-method LEAST_CONNECTIONS`,
    )
    const created = await cli.json<Record<string, unknown>[]>(['pool', 'list', '--json'])
    expect(created).toHaveLength(1)
    expect(created[0]).toMatchObject({name: 'guided-web', description: 'made by answering questions', protocol: 'TCP', lb_method: 'LEAST_CONNECTIONS'})

    // The printed command is accepted as is, and makes the same pool.
    const argv = shellWords(line).slice(1)
    expect(checkCommandLine(loadManifest(), argv)).toEqual([])
    const again = await cli.json<Record<string, unknown>>([...argv, '--json'])
    const strip = ({id: _id, ...rest}: Record<string, unknown>) => rest
    expect(strip(again)).toEqual(strip(created[0]))
  })

  it('monitor create checks the timeout against the delay typed before it', async () => {
    const term = terminal('monitor create')
    let screen = await term.waitFor('? Monitor type')
    expect(screen).toMatch(/PING\n\s+TCP\n❯ HTTP\n\s+HTTPS/)
    term.keys('Enter')
    await term.waitFor('? Seconds between checks')
    term.type('2')
    term.keys('Enter')
    await term.waitFor('? Seconds a check may take')
    term.type('3')
    term.keys('Enter')
    await term.waitFor('timeout (3s) must not exceed delay (2s)')
    term.keys('BSpace')
    term.type('1')
    term.keys('Enter')
    await term.waitFor('? Checks in a row')
    term.keys('Enter')
    // HTTP monitors also offer the HTTP fields, defaults shown.
    await term.waitFor('? HTTP method')
    term.keys('Enter')
    await term.waitFor('? URL path')
    term.type('/healthz')
    term.keys('Enter')
    await term.waitFor('? Healthy HTTP statuses')
    term.keys('Enter')
    screen = await term.waitFor('EXIT=')
    expect(screen).toContain('EXIT=0')
    expect(equivalentCommand(screen)).toBe('lbaas monitor create --type HTTP --delay 2 --timeout 1 --max-retries 3 --url-path /healthz')
    const monitors = await cli.json<Record<string, unknown>[]>(['monitor', 'list', '--json'])
    expect(monitors.map(({type, delay, timeout, max_retries, http_method, url_path, expected_codes}) => ({type, delay, timeout, max_retries, http_method, url_path, expected_codes}))).toEqual([
      {type: 'HTTP', delay: 2, timeout: 1, max_retries: 3, http_method: 'GET', url_path: '/healthz', expected_codes: '200'},
    ])
  })

  it('off a terminal asks nothing: the missing flag is an error with a hint', async () => {
    const result = await cli.run(['pool', 'create'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toBe(
      'error: missing required flag --name\nhint: give it on the command line (nothing is asked off a terminal); see `lbaas pool create --help`\n',
    )
    expect(errorOf(await cli.run(['member', 'create', '--json'])).code).toBe('missing_pool')
    expect((await cli.run(['member', 'create'])).stderr).toMatch(/^error: missing required argument POOL\n/)
  })
})
