import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildSubgraphTypeDefs } from './build-federated-schema.js';

/** `npm run schema:emit`: rewrites schema.graphql at the project root. */
async function main() {
  const { sdl } = await buildSubgraphTypeDefs();
  const target = join(__dirname, '..', '..', '..', 'schema.graphql');
  writeFileSync(target, sdl);
  process.stdout.write(`wrote ${target}\n`);
}

void main();
