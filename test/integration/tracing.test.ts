import { randomUUID } from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing } from '../../src/observability/tracing.js';
import { startFakeMollie, type FakeMollie } from '../fakes/mollie/fake-mollie.server.js';
import { sqlOn, untilInvoice } from '../helpers/db.js';
import { insertInvoice } from '../helpers/fixtures.js';
import { postWithHost } from '../helpers/post-with-host.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { newCaller, tokenFor } from '../helpers/tokens.js';
import { eventually } from '../helpers/wait.js';

const PAY_LINK = 'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { payLink { url } } } }';

/**
 * OpenTelemetry with an in-memory exporter (real PostgreSQL, JetStream and the fake Mollie): one trace runs from the
 * webhook request through the JetStream message headers into the settlement unit of work and its provider call.
 */
describe('one trace from the webhook request to settlement and the provider call', () => {
  const exporter = new InMemorySpanExporter();
  let service: TestService;
  let mollie: FakeMollie;
  const apiKey = `test_${randomUUID().replace(/-/g, '')}`;
  beforeAll(async () => {
    startTracing({ otlpEndpoint: null, spanProcessors: [new SimpleSpanProcessor(exporter)] });
    mollie = await startFakeMollie();
    service = await startTestService({ MOLLIE_API_URL: mollie.url });
  });
  afterAll(async () => {
    await service?.stop();
    await mollie?.close();
  });

  const spans = (name: string, traceId: string) =>
    exporter.getFinishedSpans().filter((span) => span.name === name && span.spanContext().traceId === traceId);
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  it('links the webhook span, the settlement span (through the NATS headers) and the Mollie fetch-back span', async () => {
    const caller = newCaller(['owner']);
    const connected = await service.gql(
      'mutation ($input: SaveMollieKeysInput!) { saveMollieKeys(input: $input) { active } }',
      { input: { apiKey, mode: 'TEST', offerCardPayments: true } },
      await tokenFor(caller),
    );
    expect(connected.errors).toBeUndefined();
    const invoice = await insertInvoice(service.orm, { workspaceId: caller.workspaceId, totalMinor: 2_000 });
    const link = await service.gql<{ _entities: Array<{ payLink: { url: string } }> }>(
      PAY_LINK,
      { reps: [{ __typename: 'Invoice', id: invoice.id }] },
      await tokenFor(caller),
    );
    const click = await fetch(link.data!._entities[0].payLink.url.replace(/^https?:\/\/[^/]+/, service.url), {
      redirect: 'manual',
    });
    expect(click.status).toBe(303);
    const sql = sqlOn(() => service.orm);
    const [{ provider_reference: paymentId }] = await sql<{ provider_reference: string }>(
      'select provider_reference from invoice_payments where invoice_id = ?',
      [invoice.id],
    );
    await mollie.setPaymentStatus(paymentId, 'paid');

    // Mollie's notification, as if sent by a caller already in a trace (W3C traceparent in)
    const traceId = randomUUID().replace(/-/g, '');
    const callerSpanId = '00f067aa0ba902b7';
    const status = await postWithHost(
      `${service.url}/api/finance/payments/mollie/webhook`,
      caller.workspaceDomain,
      `id=${paymentId}`,
      { 'content-type': 'application/x-www-form-urlencoded', traceparent: `00-${traceId}-${callerSpanId}-01` },
    );
    expect(status).toBe(200);
    await untilInvoice(sql, invoice.id, { status: 'paid' }, { timeoutMs: 10_000 });

    const [webhook] = await eventually(async () => {
      const found = spans('POST webhook', traceId);
      return found.length ? found : null;
    }, 5_000);
    expect(webhook.kind).toBe(SpanKind.SERVER);
    expect(parentOf(webhook)).toBe(callerSpanId);
    expect(webhook.attributes).toMatchObject({ 'payments.provider': 'mollie', 'payments.webhook.outcome': 'stored' });

    // the worker continued the trace from the message headers (a coalesced notification may be delivered twice)
    const settled = await eventually(async () => {
      const found = spans('settle event', traceId).filter((span) => span.attributes['payments.settlement.outcome']);
      return found.length ? found : null;
    }, 5_000);
    for (const span of spans('settle event', traceId)) {
      expect(span.kind).toBe(SpanKind.CONSUMER);
      expect(parentOf(span)).toBe(webhook.spanContext().spanId);
    }
    const fetchBack = spans('mollie fetch_back', traceId);
    expect(fetchBack.length).toBeGreaterThan(0);
    expect(fetchBack[0].kind).toBe(SpanKind.CLIENT);
    expect(settled.map((span) => span.spanContext().spanId)).toContain(parentOf(fetchBack[0]));
    expect(fetchBack[0].attributes).toEqual({
      'payments.provider': 'mollie',
      'payments.provider.operation': 'fetch_back',
    });

    // the pay-link click's provider call is traced too, in its own trace
    const checkout = exporter.getFinishedSpans().find((span) => span.name === 'mollie create_checkout');
    expect(checkout?.kind).toBe(SpanKind.CLIENT);
  });

  it('records no secret, body or pay token in any span', () => {
    const recorded = JSON.stringify(
      exporter
        .getFinishedSpans()
        .map((span) => ({ name: span.name, attributes: span.attributes, events: span.events })),
    );
    expect(recorded).not.toContain(apiKey);
    expect(recorded).not.toContain(apiKey.slice(-12));
    expect(recorded).not.toMatch(/"id=tr_/);
    expect(recorded).not.toMatch(/\/pay\/[A-Za-z0-9_-]{16,}/);
  });
});
