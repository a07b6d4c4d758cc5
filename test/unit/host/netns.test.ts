import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'

import {describe, expect, it} from 'vitest'

import {processInOwnNamespace} from '../../../src/host/netns.js'
import {waitFor} from '../../helpers/wait.js'

describe('processInOwnNamespace', () => {
  it('is true for this process and a child in the same network namespace', async () => {
    expect(processInOwnNamespace(process.pid)).toBe(true)
    const child = spawn('sleep', ['30'], {stdio: 'ignore'})
    try {
      await new Promise((resolve) => child.once('spawn', resolve))
      expect(processInOwnNamespace(child.pid!)).toBe(true)
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('is false for a process in a network namespace of its own (unshare -n), and for no process', async () => {
    const child = spawn('unshare', ['-n', 'sleep', '30'], {stdio: 'ignore'})
    try {
      await new Promise((resolve) => child.once('spawn', resolve))
      // unshare enters the new namespace, then becomes sleep (exec) under the same PID.
      await waitFor('unshare to become sleep', () => readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim() === 'sleep', 5_000, 5)
      expect(processInOwnNamespace(child.pid!)).toBe(false)
    } finally {
      child.kill('SIGKILL')
    }
    expect(processInOwnNamespace(2 ** 22 + 1)).toBe(false)
  })
})
