import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // e2e tests build network namespaces and start dockerd: give them time.
    testTimeout: 20_000,
    hookTimeout: 120_000,
  },
});
