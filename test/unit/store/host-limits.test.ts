import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'

import {openStore} from '../../../src/store/db.js'
import {recordedHostLimits, recordHostLimits} from '../../../src/store/host-limits.js'
import {recordedOpenFiles} from '../../../src/service/wiring.js'
import {readFdLimit} from '../../../src/host/fd-limit.js'
import {tempDir} from '../../helpers/tmp.js'

const cleanups: (() => void)[] = []
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()))

function freshStore() {
  const dir = tempDir()
  const store = openStore(join(dir.path, 'state.db'))
  cleanups.push(() => {
    store.close()
    dir.cleanup()
  })
  return store
}

describe('recorded host limits', () => {
  it('the first record wins unless replaced; unlimited round-trips', () => {
    const store = freshStore()
    expect(recordedHostLimits(store.db)).toBeUndefined()
    store.write(() => recordHostLimits(store.db, 20000, false))
    store.write(() => recordHostLimits(store.db, 1024, false))
    expect(recordedHostLimits(store.db)?.openFilesHard).toBe(20000)
    store.write(() => recordHostLimits(store.db, Infinity, true))
    expect(recordedHostLimits(store.db)?.openFilesHard).toBe(Infinity)
  })

  it('recordedOpenFiles records this process hard limit on first use, then reads the record', () => {
    const store = freshStore()
    expect(recordedOpenFiles(store)).toBe(readFdLimit().hard)
    store.write(() => recordHostLimits(store.db, 4096, true))
    expect(recordedOpenFiles(store)).toBe(4096)
  })
})
