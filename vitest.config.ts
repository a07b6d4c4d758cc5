import {defineConfig} from 'vitest/config'

// Two projects: unit tests need no root and no network; integration tests drive the
// real haproxy, ip, gearmand and the built CLI (run `npm run build` first; `npm test` does).
// LBAAS_SKIP_INTEGRATION=1 is the only way to leave the integration tests out.
const skipIntegration = process.env.LBAAS_SKIP_INTEGRATION === '1'

export default defineConfig({
  test: {
    restoreMocks: true,
    // Two test files at a time: the machine has 2 vCPUs, and integration files run real
    // HAProxy processes and namespaces.
    pool: 'forks',
    maxWorkers: 2,
    minWorkers: 1,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      ...(skipIntegration ? [] : [{
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      }]),
    ],
  },
})
