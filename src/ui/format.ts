/**
 * Output formats of SPEC §2: `table` (Field/Value for one object, columns for lists),
 * `json`, `yaml`, `value` (bare values, one row per line: `$(lbaas … -f value -c id)`),
 * and `csv`. Pure: returns the text to print.
 */
import {UsageError} from '../domain/errors.js'

export const FORMATS = ['table', 'json', 'yaml', 'value', 'csv'] as const
export type Format = (typeof FORMATS)[number]

export interface OutputOptions {
  format: Format
  columns: readonly string[]
  color: boolean
}

type Row = Record<string, unknown>

export function pickColumns(available: readonly string[], requested: readonly string[], fallback: readonly string[]): string[] {
  if (requested.length === 0) return [...fallback]
  const unknown = requested.filter((column) => !available.includes(column))
  if (unknown.length > 0) {
    throw new UsageError(`unknown column ${unknown.join(', ')}; choose from ${available.join(', ')}`, undefined, 'invalid_column')
  }
  return [...requested]
}

function project(row: Row, columns: readonly string[]): Row {
  return Object.fromEntries(columns.map((column) => [column, row[column]]))
}

/** Text of one cell: lists one per line (table) or space-separated (value/csv). */
export function cellText(value: unknown, listSeparator = '\n'): string {
  if (value === null || value === undefined) return ''
  if (Array.isArray(value)) {
    return value.map((item) => (typeof item === 'object' && item !== null ? JSON.stringify(item) : String(item))).join(listSeparator)
  }
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text
}

async function renderTable(head: string[], rows: string[][], color: boolean): Promise<string> {
  const {default: Table} = await import('cli-table3')
  const table = new Table({
    head,
    style: color ? {head: ['cyan'], border: ['grey'], compact: true} : {head: [], border: [], compact: true},
    wordWrap: true,
  })
  table.push(...rows)
  return `${table.toString()}\n`
}

async function yamlText(value: unknown): Promise<string> {
  const {stringify} = await import('yaml')
  return stringify(value)
}

/** One object: Field/Value table, or the object itself. */
export async function formatObject(value: object, options: OutputOptions): Promise<string> {
  const object = value as Row
  const fields = Object.keys(object)
  const columns = pickColumns(fields, options.columns, fields)
  const shown = project(object, columns)
  switch (options.format) {
    case 'json':
      return `${JSON.stringify(shown, null, 2)}\n`
    case 'yaml':
      return yamlText(shown)
    case 'value':
      return columns.map((column) => `${cellText(shown[column], ' ')}\n`).join('')
    case 'csv':
      return `${columns.map(csvField).join(',')}\n${columns.map((column) => csvField(cellText(shown[column], ' '))).join(',')}\n`
    case 'table':
      return renderTable(['Field', 'Value'], columns.map((column) => [column, cellText(shown[column])]), options.color)
  }
}

/** A list: default columns in tables, every field in json/yaml unless -c narrows it. */
export async function formatList(
  rows: readonly object[],
  defaultColumns: readonly string[],
  options: OutputOptions,
  allColumns: readonly string[] = rows.length > 0 ? Object.keys(rows[0]) : defaultColumns,
): Promise<string> {
  const structured = options.format === 'json' || options.format === 'yaml'
  const columns = pickColumns(allColumns, options.columns, structured ? allColumns : defaultColumns)
  const shown = rows.map((row) => project(row as Row, columns))
  switch (options.format) {
    case 'json':
      return `${JSON.stringify(shown, null, 2)}\n`
    case 'yaml':
      return shown.length === 0 ? '[]\n' : yamlText(shown)
    case 'value':
      return shown.map((row) => `${columns.map((column) => cellText(row[column], ' ')).join(' ')}\n`).join('')
    case 'csv':
      return [columns.map(csvField).join(','), ...shown.map((row) => columns.map((column) => csvField(cellText(row[column], ' '))).join(','))]
        .map((line) => `${line}\n`)
        .join('')
    case 'table':
      return renderTable(columns, shown.map((row) => columns.map((column) => cellText(row[column]))), options.color)
  }
}
