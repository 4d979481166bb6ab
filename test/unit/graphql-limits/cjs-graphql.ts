import { createRequire } from 'node:module';

/**
 * graphql as Apollo and the schema builders load it (CommonJS). Under vitest, `import 'graphql'` in a test resolves to
 * graphql's ESM build, and graphql-js refuses to validate a schema built by the other copy.
 */
export const graphql = createRequire(__filename)('graphql') as typeof import('graphql');
