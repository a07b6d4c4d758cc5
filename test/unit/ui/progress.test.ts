import {afterEach, beforeEach, describe, expect, it, vi} from 'vitest'

import {stderrNotifier} from '../../../src/ui/notify.js'
import {formatDuration, terminalNotifier} from '../../../src/ui/progress.js'

let written = ''
beforeEach(() => {
  written = ''
  vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    written += String(chunk)
    return true
  }) as typeof process.stderr.write)
})
afterEach(() => vi.restoreAllMocks())

// What stays on the terminal once log-update's redraws are done: the last frame.
const finalText = () => written.replaceAll(/\u001B\[[0-9;?]*[A-Za-z]/g, '')

describe('progress on a terminal (listr2 on stderr)', () => {
  it('shows a finished step with its duration and returns what the work returned', async () => {
    const notify = terminalNotifier({color: false})
    expect(await notify.step('start HAProxy', async () => 42)).toBe(42)
    expect(finalText()).toMatch(/✔ start HAProxy \[\d+ ms\]/)
  })

  it('shows steps started inside a step as lines under it, each with its duration', async () => {
    const notify = terminalNotifier({color: false})
    await notify.step('stop the lab', async () => {
      await notify.step('stop backend lab-1', async () => undefined)
      await notify.step('delete subnet lab', async () => undefined)
    })
    expect(finalText()).toMatch(/✔ stop the lab \[\d+ ms\]\n\s+› ✔ stop backend lab-1 \(\d+ ms\)\n\s+✔ delete subnet lab \(\d+ ms\)/)
  })

  it('marks a failed step and rethrows its error unchanged', async () => {
    const notify = terminalNotifier({color: false})
    const failure = new Error('haproxy -c said no')
    await expect(notify.step('validate the configuration', async () => Promise.reject(failure))).rejects.toBe(failure)
    expect(finalText()).toMatch(/✖ validate the configuration/)
    expect(finalText()).not.toContain('haproxy -c said no')
  })
})

describe('progress off a terminal', () => {
  it('prints one plain line per finished step, and nothing with --json', async () => {
    await stderrNotifier({progress: true, color: false}).step('plug 198.18.0.2', async () => undefined)
    expect(written).toMatch(/^ok {3}plug 198\.18\.0\.2 \(\d+ ms\)\n$/)
    written = ''
    await stderrNotifier({progress: false, color: false}).step('plug 198.18.0.2', async () => undefined)
    expect(written).toBe('')
  })
})

describe('formatDuration', () => {
  it('milliseconds below a second, then seconds with one decimal', () => {
    expect([0, 85.4, 999, 1000, 2449].map(formatDuration)).toEqual(['0 ms', '85 ms', '999 ms', '1.0 s', '2.4 s'])
  })
})
