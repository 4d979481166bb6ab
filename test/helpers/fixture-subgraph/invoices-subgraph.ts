import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { MikroORM } from '@mikro-orm/postgresql';
import { parse } from 'graphql';
import { JwtVerifier } from '../../../src/auth/jwt.js';
import { TEST_JWT_SECRET } from '../env.js';

/**
 * A small stand-in for Workestra's Invoices subgraph: it owns `Invoice { number status }` and lists the
 * caller's invoices from the shared `invoices` table, so a gateway can compose it with ours.
 */
const typeDefs = parse(`
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Invoice @key(fields: "id") { id: ID! number: String! status: String! }
  type Query { invoices: [Invoice!]! }
`);

export async function startInvoicesSubgraph(orm: MikroORM): Promise<{ url: string; stop: () => Promise<void> }> {
  const jwt = new JwtVerifier(TEST_JWT_SECRET);
  const server = new ApolloServer<{ workspaceId: string | null }>({
    schema: buildSubgraphSchema([
      {
        typeDefs,
        resolvers: {
          Query: {
            invoices: async (_root: unknown, _args: unknown, context: { workspaceId: string | null }) =>
              context.workspaceId
                ? orm.em
                    .getConnection()
                    .execute('select id, number, status from invoices where workspace_id = ? order by number', [
                      context.workspaceId,
                    ])
                : [],
          },
        },
      },
    ]),
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) => ({
      workspaceId: (await jwt.fromHeader(req.headers.authorization))?.workspaceId ?? null,
    }),
  });
  return { url, stop: () => server.stop() };
}
