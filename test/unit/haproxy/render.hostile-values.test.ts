/**
 * Values that skipped validation (a bug elsewhere, a hand-edited state file, a Libra
 * message) must never add a line, a directive or a comment to the configuration: either
 * they are escaped so HAProxy reads them back as one word, or rendering throws.
 */
import {describe, expect, it} from 'vitest'
import type {PoolGraph} from '../../../src/domain/types.js'
import {renderConfig} from '../../../src/haproxy/render.js'
import {buildPoolView, type RenderOptions} from '../../../src/haproxy/view.js'
import {splitHaproxyWords} from '../../../src/haproxy/words.js'
import {memberId, sampleMember, sampleMonitor, samplePoolGraph, sampleRenderOptions} from '../../helpers/haproxy-factories.js'
import {codeOf} from '../../helpers/errors.js'

function render(graph: PoolGraph, options: Partial<RenderOptions> = {}): string {
  return renderConfig(buildPoolView(graph, sampleRenderOptions(options)))
}

const renderError = (graph: PoolGraph, options: Partial<RenderOptions> = {}) => codeOf(() => render(graph, options))

/** Every configuration line as HAProxy would read it: its words, comments dropped. */
function directives(text: string): string[][] {
  return text
    .split('\n')
    .map((line) => splitHaproxyWords(line))
    .filter((words) => words.length > 0)
}

const withMonitorPath = (url_path: string) => samplePoolGraph({monitors: [sampleMonitor(1, {url_path})]})
const withCookie = (cookie_name: string) => samplePoolGraph({vip: {session_persistence: {type: 'APP_COOKIE', cookie_name}}})

describe('hostile values', () => {
  const baseline = directives(render(withMonitorPath('/healthz')))

  it.each([
    ['a comment', '/x # server evil 192.0.2.66:80'],
    ['spaces and quotes', `/x "server evil" 'x' y`],
    ['backslashes', '/x\\ server\\ evil\\'],
    ['dollars', '/${HOME}$PATH"$HOME"'],
  ])('a url_path with %s stays one word of the http-check line', (_, path) => {
    const parsed = directives(render(withMonitorPath(path)))
    expect(parsed).toHaveLength(baseline.length)
    expect(parsed).toContainEqual(['http-check', 'send', 'meth', 'GET', 'uri', path])
    expect(parsed.filter((words) => words[0] === 'server').map((words) => words[1])).toEqual([memberId(1), memberId(2)])
  })

  it.each([
    ['a newline', '/\n\tserver evil 192.0.2.66:80'],
    ['a carriage return', '/\rserver evil 192.0.2.66:80'],
    ['a NUL', '/\0'],
    ['a tab', '/a\tb'],
    ['nothing', ''],
  ])('a url_path with %s is refused', (_, path) => {
    expect(renderError(withMonitorPath(path))).toBe('haproxy_render_unsafe')
  })

  it('an http_method with a newline is refused', () => {
    expect(renderError(samplePoolGraph({monitors: [sampleMonitor(1, {http_method: 'GET\nserver evil 192.0.2.66:80'})]}))).toBe(
      'haproxy_render_unsafe',
    )
  })

  it("a cookie name with #, ' and $ is escaped at both levels of HAProxy's parser", () => {
    const parsed = directives(render(withCookie("a'b#c$d")))
    // Top-level words as HAProxy reads them; the argument parser then reads a\'b#c$d as a'b#c$d.
    expect(parsed).toContainEqual(['stick', 'store-response', "res.cook(a\\'b#c$d)"])
    expect(parsed).toContainEqual(['stick', 'match', "req.cook(a\\'b#c$d)"])
  })

  it.each([['a space', 'a b'], ['a parenthesis', 'a)'], ['a comma', 'a,b'], ['a double quote', 'a"b'], ['a backslash', 'a\\b'], ['a newline', 'a\nb']])(
    'a cookie name with %s is refused',
    (_, cookie) => {
      expect(renderError(withCookie(cookie))).toBe('haproxy_render_unsafe')
    },
  )

  it('a member id that is not a name HAProxy accepts is refused', () => {
    for (const id of ['m1 backup', 'm1\nserver evil 192.0.2.66:80', 'm#1']) {
      expect(renderError(samplePoolGraph({members: [sampleMember(1, {id})]}))).toBe('haproxy_render_unsafe')
    }
  })

  it('a member or VIP address that is not an IP address is refused', () => {
    expect(renderError(samplePoolGraph({members: [sampleMember(1, {address: '198.18.0.1:80 backup'})]}))).toBe('haproxy_render')
    expect(renderError(samplePoolGraph({vip: {address: '0.0.0.0:1\n'}}))).toBe('haproxy_render')
  })

  it('paths and users with spaces or # are escaped; with a newline or NUL they are refused', () => {
    const parsed = directives(render(samplePoolGraph(), {statsSocket: '/run/a b#c/stats.sock', user: 'hap proxy'}))
    expect(parsed).toContainEqual(['stats', 'socket', '/run/a b#c/stats.sock', 'mode', '600', 'level', 'admin', 'expose-fd', 'listeners'])
    expect(parsed).toContainEqual(['user', 'hap proxy'])
    expect(renderError(samplePoolGraph(), {serverStateFile: '/run/x\nstats socket /tmp/evil level admin'})).toBe('haproxy_render_unsafe')
    expect(renderError(samplePoolGraph(), {statsSocket: '/run/x\0/stats.sock'})).toBe('haproxy_render_unsafe')
    expect(renderError(samplePoolGraph(), {group: 'g\r'})).toBe('haproxy_render_unsafe')
  })
})
