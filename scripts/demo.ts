import 'reflect-metadata';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/observability/logger.js';
import { startService } from '../src/service.js';
import { startFakeStripe } from '../test/fakes/stripe/fake-stripe.server.js';
import { insertSentInvoice, signDevToken } from './playground.js';

/**
 * `npm run demo`: the whole product in one minute on a fresh machine. It runs the real service against the local
 * PostgreSQL and NATS, with a fake Stripe standing in for the real one (unreachable from here).
 */
const step = (n: number, text: string) => console.log(`\n\x1b[1m${n}. ${text}\x1b[0m`);
const info = (text: string) => console.log(`   ${text}`);

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function main() {
  const port = await freePort();
  const secret = 'demo-only-jwt-secret-of-at-least-32-bytes';
  step(1, "Start a fake Stripe (speaks Stripe's API and signs webhooks like Stripe)");
  const stripe = await startFakeStripe();
  info(`fake Stripe at ${stripe.url}`);

  step(2, 'Start Workestra Payments: GraphQL subgraph, webhook route, pay pages, settlement worker');
  const config = loadConfig(
    {
      ...process.env,
      PORT: String(port),
      PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
      DATABASE_URL: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/workestra_payments_demo',
      NATS_SUBJECT_PREFIX: `demo_${randomBytes(3).toString('hex')}`,
      STRIPE_API_URL: stripe.url,
      AUTH_JWT_SECRET: secret,
    },
    ['--role', 'all'],
  );
  const service = await startService(config, createLogger('warn'));
  stripe.autoDeliver = { baseUrl: service.url };
  info(
    `service at ${service.url} (database ${new URL(config.databaseUrl).pathname.slice(1)}, NATS prefix ${config.natsSubjectPrefix})`,
  );

  try {
    const workspaceId = randomUUID();
    const domain = `acme-${workspaceId.slice(0, 6)}.workestra.test`;
    step(3, `Sign a gateway-style token for workspace ${domain} (role owner)`);
    const token = await signDevToken({
      secret,
      workspaceId,
      workspaceDomain: domain,
      roles: ['owner'],
      subject: 'demo-user',
      expiresIn: '1h',
    });
    const gql = async <T>(query: string, variables?: Record<string, unknown>): Promise<T> => {
      const response = await fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data: T; errors?: unknown };
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data;
    };

    step(4, 'Create a sent invoice INV-1001 for 120.00 EUR (normally the Invoices service does this)');
    const { id: invoiceId } = await insertSentInvoice(
      (sql, params) => service.orm.em.getConnection().execute(sql, params),
      { workspaceId, number: 'INV-1001', currency: 'EUR', totalMinor: 12_000 },
    );

    step(
      5,
      'Connect Stripe with test keys (saveStripeKeys); no signing secret given, so the service creates the webhook endpoint',
    );
    const saved = await gql<{ saveStripeKeys: Record<string, string> }>(
      'mutation ($input: SaveStripeKeysInput!) { saveStripeKeys(input: $input) { active secretKeyMasked webhookSecretMasked webhookUrl } }',
      {
        input: {
          secretKey: `sk_test_${randomBytes(12).toString('hex')}4242`,
          publishableKey: `pk_test_${randomBytes(12).toString('hex')}`,
          mode: 'TEST',
          offerCardPayments: true,
        },
      },
    );
    info(
      `active=${saved.saveStripeKeys.active}, secret shown only as ${saved.saveStripeKeys.secretKeyMasked}, webhook secret ${saved.saveStripeKeys.webhookSecretMasked}`,
    );
    info(`Stripe will post to ${saved.saveStripeKeys.webhookUrl}`);

    const query = `query ($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Invoice { payLink { url amountDue { amount currency } } payments { status providerReference eventId amount { amount currency } refunded { amount } } } }
}`;
    const reps = [{ __typename: 'Invoice', id: invoiceId }];
    type Entity = {
      payLink: { url: string; amountDue: { amount: string; currency: string } } | null;
      payments: Array<{
        status: string;
        providerReference: string;
        eventId: string | null;
        amount: { amount: string; currency: string };
        refunded: { amount: string };
      }>;
    };
    step(6, "The gateway asks this subgraph for the invoice's pay link:");
    console.log(query.replace(/^/gm, '   '));
    const link = (await gql<{ _entities: Entity[] }>(query, { reps }))._entities[0].payLink!;
    info(`→ ${link.url} (amount due ${link.amountDue.amount} ${link.amountDue.currency})`);

    step(7, "The customer opens the pay link: a 303 to Stripe's hosted checkout");
    const redirect = await fetch(link.url, { redirect: 'manual' });
    const checkoutUrl = redirect.headers.get('location')!;
    info(`${redirect.status} → ${checkoutUrl}`);

    step(8, 'The customer pays; Stripe sends checkout.session.completed → webhook → JetStream → settlement worker');
    const started = Date.now();
    await fetch(`${checkoutUrl}/complete`, { method: 'POST', redirect: 'manual' });
    const statusOf = async () =>
      (
        await service.orm.em
          .getConnection()
          .execute<Array<{ status: string; paid_minor: string }>>(
            'select status, paid_minor from invoices where id = ?',
            [invoiceId],
          )
      )[0];
    while ((await statusOf()).status !== 'paid') await new Promise((resolve) => setTimeout(resolve, 10));
    info(`invoice INV-1001 is now \x1b[32mPAID\x1b[0m (${Date.now() - started} ms after the customer clicked Pay)`);
    for (const payment of (await gql<{ _entities: Entity[] }>(query, { reps }))._entities[0].payments) {
      info(
        `ledger: ${payment.status} ${payment.amount.amount} ${payment.amount.currency} · ${payment.providerReference} · event ${payment.eventId}`,
      );
    }

    step(9, 'Refund 20.00 EUR with refundPayment (what the AI assistant calls)');
    const paymentId = (
      await gql<{ _entities: Array<{ payments: Array<{ id: string }> }> }>(
        'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { payments { id } } } }',
        { reps },
      )
    )._entities[0].payments[0].id;
    const refund = await gql<{ refundPayment: { status: string; amount: { amount: string } } }>(
      'mutation ($input: RefundPaymentInput!) { refundPayment(input: $input) { status amount { amount } } }',
      {
        input: {
          paymentId,
          amountMinor: 2000,
          reason: 'requested_by_customer',
          idempotencyKey: `demo-${randomUUID()}`,
        },
      },
    );
    info(`refund ${refund.refundPayment.amount.amount} EUR: ${refund.refundPayment.status}`);
    const after = await statusOf();
    info(
      `invoice INV-1001 is now \x1b[33m${after.status.toUpperCase()}\x1b[0m (paid ${(Number(after.paid_minor) / 100).toFixed(2)} EUR)`,
    );
    for (const payment of (await gql<{ _entities: Entity[] }>(query, { reps }))._entities[0].payments) {
      info(
        `ledger: ${payment.status} ${payment.amount.amount} ${payment.amount.currency}, refunded ${payment.refunded.amount}`,
      );
    }
    step(10, 'Done. Explore: payments-ops status (npm run ops -- status), /metrics, schema.graphql');
  } finally {
    await service.stop();
    await stripe.close();
    // The demo's streams are its own: remove them so repeated demos leave nothing behind in NATS.
    const nc = await connect({ servers: config.natsUrl });
    const jsm = await jetstreamManager(nc);
    for (const stream of [service.names.eventsStream, service.names.dlqStream])
      await jsm.streams.delete(stream).catch(() => undefined);
    await nc.close();
  }
}

main().catch((error: unknown) => {
  console.error(`demo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
