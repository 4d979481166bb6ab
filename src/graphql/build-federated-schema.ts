import 'reflect-metadata';
import { buildSubgraphSchema, type GraphQLResolverMap } from '@apollo/subgraph';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { parse, type GraphQLSchema } from 'graphql';
import { buildSchema, createResolversMap } from 'type-graphql';
import { resolveInvoiceReference } from '../resolvers/invoice.reference.js';
import { Invoice } from '../schema/invoice.type.js';
import { resolvers } from '../resolvers/index.js';
import type { GraphQLContext } from '../resolvers/context.js';

const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])';

/** The subgraph SDL as type-graphql emits it (committed as schema.graphql so changes show in review). */
export async function buildSubgraphTypeDefs(): Promise<{ sdl: string; schema: GraphQLSchema }> {
  const schema = await buildSchema({ resolvers, orphanedTypes: [Invoice], skipCheck: true, validate: false });
  return { schema, sdl: `${FEDERATION_LINK}\n\n${printSchemaWithDirectives(schema)}\n` };
}

/** type-graphql output turned into an Apollo Federation 2 subgraph (pattern of type-graphql's apollo-federation-2 example). */
export async function buildFederatedSchema(): Promise<GraphQLSchema> {
  const { schema, sdl } = await buildSubgraphTypeDefs();
  const resolverMap = createResolversMap(schema) as GraphQLResolverMap<GraphQLContext>;
  return buildSubgraphSchema([
    {
      typeDefs: parse(sdl),
      resolvers: {
        ...resolverMap,
        Invoice: {
          ...(resolverMap.Invoice as object),
          __resolveReference: (reference: { id: string }, context: GraphQLContext) =>
            resolveInvoiceReference(reference, context),
        },
      } as GraphQLResolverMap<GraphQLContext>,
    },
  ]);
}
