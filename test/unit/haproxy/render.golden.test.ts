import {describe, expect, it} from 'vitest'
import {renderConfig} from '../../../src/haproxy/render.js'
import {buildPoolView} from '../../../src/haproxy/view.js'
import {sampleRenderOptions} from '../../helpers/haproxy-factories.js'
import {GOLDEN_CASES} from '../../helpers/haproxy-goldens.js'

describe('golden configurations (test/fixtures/haproxy/*.cfg)', () => {
  for (const golden of GOLDEN_CASES) {
    it(`${golden.file} equals the render of its pool graph`, async () => {
      const view = buildPoolView(golden.graph, sampleRenderOptions(golden.options))
      const rendered = renderConfig(view)
      await expect(rendered).toMatchFileSnapshot(`../../fixtures/haproxy/${golden.file}`)
      expect(view.warnings).toEqual(golden.warnings)
    })

    it(`${golden.file} renders byte-identically twice`, () => {
      const options = sampleRenderOptions(golden.options)
      expect(renderConfig(buildPoolView(golden.graph, options))).toBe(renderConfig(buildPoolView(golden.graph, options)))
    })
  }
})
