import fc from 'fast-check'
import {describe, expect, it} from 'vitest'
import {
  assertHaproxyName,
  directive,
  quoteWord,
  sampleFetchArgument,
  splitHaproxyWords,
} from '../../../src/haproxy/words.js'
import {codeOf} from '../../helpers/errors.js'

describe('splitHaproxyWords (the guard\'s model of HAProxy 2.6\'s tokenizer)', () => {
  it('splits on spaces and tabs and stops at an unescaped #', () => {
    expect(splitHaproxyWords('  server a  1.2.3.4:80\tcheck # comment')).toEqual(['server', 'a', '1.2.3.4:80', 'check'])
  })

  it('honours backslash escapes, weak and strong quotes as configuration.txt §2.2 describes', () => {
    expect(splitHaproxyWords(String.raw`a\ b c\#d "e f#" 'g\h' \\ \' \" \x41 x""y`)).toEqual([
      'a b',
      'c#d',
      'e f#',
      'g\\h',
      '\\',
      "'",
      '"',
      'A',
      'xy',
    ])
  })

  it('reads an empty quoted word as a word', () => {
    expect(splitHaproxyWords('a "" b')).toEqual(['a', '', 'b'])
  })

  it('refuses what HAProxy would refuse or misread', () => {
    expect(codeOf(() => splitHaproxyWords('a "b'))).toBe('haproxy_render_unsafe')
    expect(codeOf(() => splitHaproxyWords("a 'b"))).toBe('haproxy_render_unsafe')
    expect(codeOf(() => splitHaproxyWords('a \\'))).toBe('haproxy_render_unsafe')
    expect(codeOf(() => splitHaproxyWords('a \\q'))).toBe('haproxy_render_unsafe')
  })
})

describe('quoteWord', () => {
  it('leaves plain words alone', () => {
    expect(quoteWord('/healthz?a=1&b=2')).toBe('/healthz?a=1&b=2')
    expect(quoteWord('^(20[0-3]|302)$')).toBe('^(20[0-3]|302)$')
  })

  it('escapes space, #, quotes and backslash; $ stays literal outside double quotes', () => {
    expect(quoteWord(`/a b#c'd"e\\f$HOME`)).toBe(String.raw`/a\ b\#c\'d\"e\\f$HOME`)
  })

  it('round-trips any printable value through the tokenizer as exactly one word', () => {
    const printable = fc.string({unit: fc.constantFrom(...' !"#$%&\'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~é€'.split('')), minLength: 1})
    fc.assert(
      fc.property(printable, (value) => {
        expect(splitHaproxyWords(`key ${quoteWord(value)} tail`)).toEqual(['key', value, 'tail'])
      }),
    )
  })

  it('refuses empty values and every control character', () => {
    expect(codeOf(() => quoteWord(''))).toBe('haproxy_render_unsafe')
    for (const control of ['\n', '\r', '\0', '\t', '\x1b', '\x7f']) {
      expect(codeOf(() => quoteWord(`/a${control}b`))).toBe('haproxy_render_unsafe')
    }
  })
})

describe('sampleFetchArgument', () => {
  it('escapes a single quote for the argument parser; quoting for the top level comes after', () => {
    expect(sampleFetchArgument("s'id")).toBe("s\\'id")
    // What HAProxy 2.6 accepted and matched on a real cookie (see the integration test).
    expect(directive`stick match req.cook(${sampleFetchArgument("s'id#1$x")})`).toBe(String.raw`stick match req.cook(s\\\'id\#1$x)`)
  })

  it('accepts only HTTP token characters (no delimiters of the argument parser)', () => {
    for (const value of ['a,b', 'a)b', 'a(b', 'a b', 'a"b', 'a\\b', '', 'a\nb', 'ä']) {
      expect(codeOf(() => sampleFetchArgument(value))).toBe('haproxy_render_unsafe')
    }
  })
})

describe('directive', () => {
  it('quotes each value and keeps values glued to keyword text in one word', () => {
    expect(directive`server ${'s1'} [${'2001:db8::1'}]:${8080} weight ${0}`).toBe('server s1 [2001:db8::1]:8080 weight 0')
    expect(directive`uri ${'/a b'}`).toBe('uri /a\\ b')
  })

  it('throws instead of writing a value that could end the line or add words', () => {
    expect(codeOf(() => directive`uri ${'/\n\tserver evil 192.0.2.66:80'}`)).toBe('haproxy_render_unsafe')
    expect(codeOf(() => directive`weight ${1.5}`)).toBe('haproxy_render_unsafe')
  })
})

describe('assertHaproxyName', () => {
  it('accepts ids and Libra-style names, refuses anything HAProxy would not take as a name', () => {
    expect(assertHaproxyName('b1000000-0000-4000-8000-000000000001', 'backend')).toBe('b1000000-0000-4000-8000-000000000001')
    expect(assertHaproxyName('id-1234', 'server')).toBe('id-1234')
    for (const name of ['', 'a b', 'a#b', 'a/b', 'a\nb', 'x'.repeat(129)]) {
      expect(codeOf(() => assertHaproxyName(name, 'server'))).toBe('haproxy_render_unsafe')
    }
  })
})
