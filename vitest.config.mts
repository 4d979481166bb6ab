import { createRequire } from 'node:module';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // One graphql for everything: Apollo and the schema builders require() graphql's CommonJS build, so our sources
    // must get the same copy (graphql-js refuses types from "another module or realm"), as they do when built.
    alias: [{ find: /^graphql$/, replacement: createRequire(import.meta.url).resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // the cluster tier has its own config and script (npm run test:cluster)
    exclude: [...configDefaults.exclude, 'test/cluster/**'],
    pool: 'forks',
    // Vitest's default is one fork per core minus one: a single fork on a 2-core machine, where most of each file's
    // time is spent waiting on PostgreSQL, NATS and child processes. Three forks halve the suite's wall time there;
    // every file already uses its own workspaces, invoices and subjects inside the run's database and prefix.
    maxWorkers: 3,
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
