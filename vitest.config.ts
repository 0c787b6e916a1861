import { defineConfig } from 'vitest/config';

/**
 * Two projects:
 *   unit         every *.test.ts that runs in this process (in-memory channels, fixtures);
 *   integration  *.integration.test.ts and the tests that spawn processes (real WebSockets
 *                on loopback, child parties, the CLI, the built package).
 * `npx vitest run --project unit` is the quick loop; `npm test` runs both.
 */
const EXCLUDE = ['node_modules/**', 'dist/**', 'build/**'];
/** tests that spawn child processes without the .integration suffix */
export const SPAWNING = ['kernels/loader.test.ts', 'cli/commands/keygen.test.ts', 'cli/commands/party.test.ts'];
const INTEGRATION = ['**/*.integration.test.ts', ...SPAWNING];

export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: ['**/*.test.ts'], exclude: [...EXCLUDE, ...INTEGRATION] } },
      { extends: true, test: { name: 'integration', include: INTEGRATION, exclude: EXCLUDE } },
    ],
  },
});
