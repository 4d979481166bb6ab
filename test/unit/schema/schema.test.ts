import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvoicePayment } from '../../../src/entities/index.js';
import { buildSubgraphTypeDefs } from '../../../src/graphql/build-federated-schema.js';
import { Payment } from '../../../src/schema/payment.type.js';
import { PaymentResolver } from '../../../src/resolvers/payment.resolver.js';

describe('GraphQL schema', () => {
  it('matches the committed schema.graphql (run `npm run schema:emit` after changing the schema)', async () => {
    const { sdl } = await buildSubgraphTypeDefs();
    const committed = readFileSync(join(__dirname, '..', '..', '..', 'schema.graphql'), 'utf8');
    expect(sdl).toBe(committed);
  });

  it('describes every type, field and argument (the AI assistant reads them)', async () => {
    const { schema } = await buildSubgraphTypeDefs();
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Boolean', 'ID', 'Int', 'Float'].includes(type.name)) continue;
      const rootType = type.name === 'Query' || type.name === 'Mutation';
      if (!type.description && !rootType) missing.push(type.name);
      if ('getFields' in type) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : [])
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('declares Invoice as a federation entity', async () => {
    const { sdl } = await buildSubgraphTypeDefs();
    expect(sdl).toContain('type Invoice @key(fields: "id")');
    expect(sdl).toContain('specs.apollo.dev/federation/v2');
  });
});

describe('decorator metadata (a tool upgrade that drops it must fail loudly)', () => {
  it('is emitted for entities, GraphQL types and resolver parameters', () => {
    expect(Reflect.getMetadata('design:type', InvoicePayment.prototype, 'amountMinor')).toBe(Number);
    expect(Reflect.getMetadata('design:type', Payment.prototype, 'providerReference')).toBe(String);
    expect(Reflect.getMetadata('design:paramtypes', PaymentResolver.prototype, 'payment')).toEqual([String, Object]);
  });
});
