import { ApolloGateway, IntrospectAndCompose, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInvoicesSubgraph } from '../../helpers/fixture-subgraph/invoices-subgraph.js';
import { insertInvoice, insertPayment } from '../../helpers/fixtures.js';
import { startTestService, type TestService } from '../../helpers/service.js';
import { newCaller, tokenFor } from '../../helpers/tokens.js';

/** Forwards the caller's Authorization header to subgraphs, as Workestra's gateway does. */
class AuthForwardingDataSource extends RemoteGraphQLDataSource<{ authorization?: string }> {
  override willSendRequest({
    request,
    context,
  }: Parameters<NonNullable<RemoteGraphQLDataSource<{ authorization?: string }>['willSendRequest']>>[0]) {
    if (context.authorization) request.http?.headers.set('authorization', context.authorization);
  }
}

describe('composition with the Invoices subgraph through @apollo/gateway', () => {
  let service: TestService;
  let invoices: Awaited<ReturnType<typeof startInvoicesSubgraph>>;
  let gateway: ApolloServer<{ authorization?: string }>;

  beforeAll(async () => {
    service = await startTestService();
    invoices = await startInvoicesSubgraph(service.orm);
    gateway = new ApolloServer({
      gateway: new ApolloGateway({
        supergraphSdl: new IntrospectAndCompose({
          subgraphs: [
            { name: 'invoices', url: invoices.url },
            { name: 'payments', url: `${service.url}/graphql` },
          ],
        }),
        buildService: ({ url }) => new AuthForwardingDataSource({ url }),
      }),
    });
    await gateway.start();
  });
  afterAll(async () => {
    await gateway?.stop();
    await invoices?.stop();
    await service?.stop();
  });

  it("answers a query that spans both subgraphs, scoped to the caller's workspace", async () => {
    const caller = newCaller(['viewer']);
    const stranger = newCaller(['owner']);
    const first = await insertInvoice(service.orm, {
      workspaceId: caller.workspaceId,
      number: 'INV-0001',
      currency: 'EUR',
    });
    const second = await insertInvoice(service.orm, {
      workspaceId: caller.workspaceId,
      number: 'INV-0002',
      currency: 'JPY',
    });
    await insertInvoice(service.orm, { workspaceId: stranger.workspaceId, number: 'INV-9999' });
    await insertPayment(service.orm, {
      workspaceId: caller.workspaceId,
      invoiceId: first.id,
      amountMinor: 4250,
      currency: 'EUR',
    });
    await insertPayment(service.orm, {
      workspaceId: caller.workspaceId,
      invoiceId: second.id,
      amountMinor: 1500,
      currency: 'JPY',
      status: 'pending',
    });

    const response = await gateway.executeOperation(
      { query: '{ invoices { id number payments { status amount { amount currency } } } }' },
      { contextValue: { authorization: `Bearer ${await tokenFor(caller)}` } },
    );
    expect(response.body.kind).toBe('single');
    const result = response.body.kind === 'single' ? response.body.singleResult : null;
    expect(result?.errors).toBeUndefined();
    expect(result?.data).toEqual({
      invoices: [
        {
          id: first.id,
          number: 'INV-0001',
          payments: [{ status: 'SUCCEEDED', amount: { amount: '42.50', currency: 'EUR' } }],
        },
        {
          id: second.id,
          number: 'INV-0002',
          payments: [{ status: 'PENDING', amount: { amount: '1500', currency: 'JPY' } }],
        },
      ],
    });
  });
});
