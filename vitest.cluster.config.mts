import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

/** `npm run test:cluster`: the cluster tier (test/cluster), slow and private (its own nats-servers and PostgreSQL). */
export default defineConfig({
  resolve: {
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }],
  },
  test: {
    include: ['test/cluster/**/*.test.ts'],
    pool: 'forks',
    globalSetup: ['test/cluster/build-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
