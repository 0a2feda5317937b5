import { defineConfig } from 'vitest/config';

// Integration tests use real sockets and SIPp: they run in forked processes so a crash in one
// file cannot take the others down, and each file picks distinct ports (see test/support/ports.ts).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // the compiled product that tests start as a process (test/support/product-process.ts)
    globalSetup: ['test/support/build-product.ts'],
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
  },
});
