/**
 * Apply file text → a plain value, refusing what could hurt before it is parsed: files
 * over MAX_FILE_BYTES, nesting deeper than MAX_DEPTH, more than MAX_ALIASES alias
 * expansions (the "billion laughs"), duplicate keys, and custom tags. YAML 1.2 core
 * schema, so JSON files parse the same way.
 */
import {parseDocument} from 'yaml'

import type {Problem} from './file.js'

export const MAX_FILE_BYTES = 4 * 1024 * 1024
export const MAX_DEPTH = 32
export const MAX_ALIASES = 100

export type Parsed = {value: unknown; problems: []} | {value: undefined; problems: Problem[]}

const refuse = (message: string): Parsed => ({value: undefined, problems: [{path: '(file)', message}]})

/**
 * The deepest nesting the text can reach, estimated without parsing: flow brackets and
 * block indentation. Cheap, and it runs before the parser, whose recursion is the danger.
 */
function roughDepth(text: string): number {
  let flow = 0
  let deepestFlow = 0
  let deepestIndent = 0
  let lineStart = true
  let indent = 0
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index)
    if (char === 10) {
      lineStart = true
      indent = 0
      continue
    }
    if (lineStart) {
      if (char === 32 || char === 45) {
        indent++ // spaces and `- ` both open a level in block style
        continue
      }
      lineStart = false
      if (indent > deepestIndent) deepestIndent = indent
    }
    if (char === 91 || char === 123) {
      flow++
      if (flow > deepestFlow) deepestFlow = flow
    } else if ((char === 93 || char === 125) && flow > 0) flow--
  }
  // Two characters of indentation per level is the common style; one is the worst case.
  return Math.max(deepestFlow, Math.floor(deepestIndent / 2))
}

export function parseApplyText(text: string): Parsed {
  const bytes = Buffer.byteLength(text)
  if (bytes > MAX_FILE_BYTES) return refuse(`the file is ${bytes} bytes; apply files are limited to ${MAX_FILE_BYTES} bytes (4 MiB)`)
  if (text.includes('\0')) return refuse('the file contains a NUL byte')
  if (roughDepth(text) > MAX_DEPTH * 2) return refuse(`the file nests deeper than ${MAX_DEPTH} levels`)
  let doc
  try {
    doc = parseDocument(text, {uniqueKeys: true, merge: false, strict: true, schema: 'core', version: '1.2', prettyErrors: false})
  } catch (error) {
    return refuse(`cannot parse: ${(error as Error).message}`)
  }
  const errors = doc.errors.map((error) => ({path: '(file)', message: firstLine(error.message)}))
  if (errors.length > 0) return {value: undefined, problems: errors}
  const tags = customTags(doc.contents)
  if (tags.length > 0) return refuse(`tags are not allowed: ${tags.slice(0, 3).join(', ')}`)
  let value: unknown
  try {
    value = doc.toJS({maxAliasCount: MAX_ALIASES})
  } catch (error) {
    return refuse(`cannot read: ${firstLine((error as Error).message)} (at most ${MAX_ALIASES} alias uses)`)
  }
  if (depthOf(value, 0) > MAX_DEPTH) return refuse(`the file nests deeper than ${MAX_DEPTH} levels`)
  return {value, problems: []}
}

function firstLine(text: string): string {
  return text.split('\n')[0].trim()
}

function depthOf(value: unknown, depth: number): number {
  if (depth > MAX_DEPTH) return depth
  if (Array.isArray(value)) return Math.max(depth, ...value.map((item) => depthOf(item, depth + 1)))
  if (value !== null && typeof value === 'object') return Math.max(depth, ...Object.values(value).map((item) => depthOf(item, depth + 1)))
  return depth
}

/** Explicit tags other than the core schema's (`!!str` is fine, `!!js/function` or `!foo` is not). */
function customTags(node: unknown, found: string[] = [], depth = 0): string[] {
  if (node === null || typeof node !== 'object' || depth > MAX_DEPTH * 2) return found
  const tag = (node as {tag?: string}).tag
  if (tag && !/^tag:yaml\.org,2002:(str|int|float|bool|null|map|seq)$/.test(tag)) found.push(tag)
  const items = (node as {items?: unknown[]}).items
  if (Array.isArray(items)) {
    for (const item of items) {
      if (item && typeof item === 'object' && 'key' in item) {
        customTags((item as {key: unknown}).key, found, depth + 1)
        customTags((item as unknown as {value: unknown}).value, found, depth + 1)
      } else customTags(item, found, depth + 1)
    }
  }
  return found
}
