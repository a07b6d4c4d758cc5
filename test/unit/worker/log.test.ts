import {describe, expect, it} from 'vitest'

import {formatLogLine} from '../../../src/worker/log.js'

describe('the worker log', () => {
  it('writes logfmt: bare words bare, anything else quoted, nothing for absent fields', () => {
    const line = formatLogLine('warn', 'job', {action: 'UPDATE', pool: 'device', result: 'FAIL', duration_ms: 12.5, error: 'Missing node "id"\nx', skip: undefined}, new Date(0))
    expect(line).toBe('time=1970-01-01T00:00:00.000Z level=warn event=job action=UPDATE pool=device result=FAIL duration_ms=12.5 error="Missing node \\"id\\"\\nx"')
  })
})
