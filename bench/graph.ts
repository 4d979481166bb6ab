import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/observability/logger.js';
import { startService } from '../src/service.js';
import { insertInvoices, percentile, serviceEnv, type Bench } from './support.js';

/** Phase 4: `_entities` for N invoices with payments, pay link and provider settings: SQL statements and latency. */

const QUERY = `query ($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Invoice { id payments { id status amount { amountMinor } } payLink { url } providerSettings { provider } }
  }
}`;

interface Entity {
  id: string;
  payments: Array<{ id: string; status: string; amount: { amountMinor: number } }>;
  payLink: { url: string } | null;
  providerSettings: { provider: string } | null;
}

export interface GraphResult {
  statements100: number;
  statements10: number;
  p50Ms: number;
  p99Ms: number;
  /** The statements of one warm 100-invoice request, for the report (as the ORM logs them: `$n` placeholders). */
  sample: string[];
  /** The 100 invoices the request asks for (to EXPLAIN the sample with its parameters). */
  invoiceIds: string[];
}

export async function graphPhase(bench: Bench, requests: number): Promise<GraphResult> {
  // 100 invoices of the bench workspace, each part-paid by one succeeded payment: payLink stays non-null.
  const ids = await insertInvoices(bench, 100, { totalMinor: 10_000, status: 'partial', paidMinor: 2500 });
  await bench.pool.query(
    `insert into invoice_payments (id, workspace_id, invoice_id, provider, provider_reference, status, amount_minor, currency, paid_at)
     select gen_random_uuid(), $2, id, 'stripe', 'cs_test_graph_' || n, 'succeeded', 2500, 'EUR', now()
     from unnest($1::uuid[]) with ordinality as t(id, n)`,
    [ids, bench.workspaceId],
  );
  const statements: string[] = [];
  let counting = false;
  const config = loadConfig({ ...serviceEnv(bench, 'g'), NODE_ENV: 'test', PORT: '0' }, ['--role', 'api']);
  const service = await startService(config, createLogger('error'), {
    onQuery: (sql) => counting && statements.push(sql),
  });
  try {
    const token = await new SignJWT({
      workspace_id: bench.workspaceId,
      workspace_domain: bench.domain,
      roles: ['owner'],
    })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(`user-${randomUUID()}`)
      .setIssuedAt()
      .sign(new TextEncoder().encode(bench.jwtSecret));
    const ask = async (invoiceIds: string[]) => {
      const response = await fetch(`${service.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: QUERY,
          variables: { reps: invoiceIds.map((id) => ({ __typename: 'Invoice', id })) },
        }),
      });
      const body = (await response.json()) as { data?: { _entities: Array<Entity | null> }; errors?: unknown[] };
      const entities = body.data?._entities ?? [];
      const complete =
        entities.length === invoiceIds.length &&
        entities.every(
          (e) => e && e.payments.length === 1 && e.payLink?.url && e.providerSettings?.provider === 'STRIPE',
        );
      if (body.errors || !complete)
        throw new Error(`unexpected _entities answer: ${JSON.stringify(body).slice(0, 600)}`);
    };
    /** Statements of one request; the most over a cold request (creates pay links) and two warm ones. */
    const count = async (invoiceIds: string[]) => {
      let most = 0;
      for (let round = 0; round < 3; round++) {
        statements.length = 0;
        counting = true;
        await ask(invoiceIds);
        counting = false;
        most = Math.max(most, statements.length);
      }
      return most;
    };
    const statements10 = await count(ids.slice(0, 10));
    const statements100 = await count(ids);
    const sample = [...statements];
    for (let i = 0; i < 20; i++) await ask(ids); // warm-up
    const times: number[] = [];
    for (let i = 0; i < requests; i++) {
      const started = performance.now();
      await ask(ids);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const round = (value: number) => Math.round(value * 10) / 10;
    return {
      statements100,
      statements10,
      p50Ms: round(percentile(times, 50)),
      p99Ms: round(percentile(times, 99)),
      sample,
      invoiceIds: ids,
    };
  } finally {
    await service.stop();
  }
}
