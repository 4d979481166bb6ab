/**
 * A bounded fuzzer for the webhook ingress: fast-check mutates valid signed Stripe requests and valid Mollie
 * notifications (headers, signatures, timestamps, bodies, sizes, hosts, routes, HTTP framing), sends them over raw TCP
 * to the real service (in-process, with its settlement worker), and checks each answer against docs/contract.md ("Webhook checks"):
 * never a 5xx, the service keeps answering, a 2xx exactly when the request is valid (where the design decides it),
 * and something stored exactly when answered 2xx (one stream message, later one `webhook_events` row per event).
 *
 * FUZZ_RUNS (cases per provider, default 150) and FUZZ_SEED (replay a run; fast-check prints the seed on failure).
 */
import { randomBytes } from 'node:crypto';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMollie, type FakeMollie } from '../fakes/mollie/fake-mollie.server.js';
import { startFakeStripe, type FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { invoiceRow, sqlOn } from '../helpers/db.js';
import { insertInvoice } from '../helpers/fixtures.js';
import { flood, tally } from '../helpers/fuzz/flood.js';
import { buildMollieCase, mollieCase, type MollieCaseMutations } from '../helpers/fuzz/mollie-mutations.js';
import { sendWire, type WireRequest } from '../helpers/fuzz/raw-http.js';
import { buildStripeCase, stripeCase, type StripeCaseMutations } from '../helpers/fuzz/stripe-mutations.js';
import { Stage, type FuzzCase } from '../helpers/fuzz/verdict.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { StripeWorkspace } from '../helpers/stripe-events.js';
import { eventually } from '../helpers/wait.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';

function intFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^-?\d+$/.test(raw)) throw new Error(`${name} must be an integer, got "${raw}"`);
  return Number(raw);
}
const RUNS = intFromEnv('FUZZ_RUNS') ?? 150;
const SEED = intFromEnv('FUZZ_SEED');
if (RUNS < 1) throw new Error('FUZZ_RUNS must be at least 1');
/** Roughly 25 ms a case on this 2-core machine, with room for a loaded one and for shrinking. */
const TIMEOUT_MS = Math.max(60_000, RUNS * 200);
const STRIPE_PATH = '/api/finance/payments/stripe/webhook';
const MOLLIE_PATH = '/api/finance/payments/mollie/webhook';

let service: TestService;
let stripe: FakeStripe;
let mollie: FakeMollie;
let jsm: JetStreamManager;
let stripeWs: StripeWorkspace;
let mollieCaller: TestCaller;
let mollieKey: string;

beforeAll(async () => {
  [stripe, mollie] = await Promise.all([startFakeStripe(), startFakeMollie()]);
  service = await startTestService({ STRIPE_API_URL: stripe.url, MOLLIE_API_URL: mollie.url });
  jsm = await jetstreamManager(service.nats);
  stripeWs = await StripeWorkspace.connect(service, stripe);
  mollieCaller = newCaller(['owner']);
  mollieKey = `test_${randomBytes(16).toString('hex')}`;
  const saved = await service.gql(
    'mutation ($input: SaveMollieKeysInput!) { saveMollieKeys(input: $input) { active } }',
    { input: { apiKey: mollieKey, mode: 'TEST', offerCardPayments: true } },
    await tokenFor(mollieCaller),
  );
  if (saved.errors) throw new Error(`saveMollieKeys failed: ${JSON.stringify(saved.errors)}`);
});

afterAll(async () => {
  await service?.stop();
  await Promise.all([stripe?.close(), mollie?.close()]);
});

const storedMessages = async () => (await jsm.streams.info(service.names.eventsStream)).state.messages;
const sql = sqlOn(() => service.orm);
const inboxIds = async (provider: string, workspaceId: string) =>
  (
    await sql<{ event_id: string }>('select event_id from webhook_events where provider = ? and workspace_id = ?', [
      provider,
      workspaceId,
    ])
  ).map((row) => row.event_id);
/** Answers ≥ 500 the service itself counted (also those a client that hung up never saw). */
const serverErrors = async () =>
  (await service.metrics.httpRequests.get()).values
    .filter((value) => Number(value.labels.status) >= 500)
    .reduce((sum, value) => sum + value.value, 0);

function describeCase(fuzz: FuzzCase): string {
  const head = fuzz.wire.headers
    .map(([name, value]) => `${name}: ${value === null ? '' : value.toString('latin1').slice(0, 120)}`)
    .join(' | ');
  const body = fuzz.wire.body.toString('latin1');
  return `${fuzz.wire.method} ${fuzz.wire.target.slice(0, 100)} [${head}] body(${fuzz.wire.body.length}) ${JSON.stringify(body.slice(0, 160))} framing ${JSON.stringify(fuzz.wire.framing)}; expected ${JSON.stringify(fuzz.expectation)}`;
}

/** Sends one case and checks the oracle; returns the event id stored for a 2xx (null otherwise). */
async function check(fuzz: FuzzCase, provider: 'stripe' | 'mollie', workspaceId: string): Promise<string | null> {
  const before = await storedMessages();
  const errorsBefore = await serverErrors();
  const answer = await sendWire(service.port, fuzz.wire);
  const note = `${describeCase(fuzz)}; got ${answer.status} ${answer.body.slice(0, 200)}`;
  expect(answer.timedOut, `no answer within 10 s: ${note}`).toBe(false);
  // a sender that hung up gets no answer; give the handler a moment to finish its side
  if (fuzz.expectation.kind === 'no-answer' || answer.status === 0)
    await new Promise((resolve) => setTimeout(resolve, 25));
  expect(answer.status, `5xx: ${note}`).toBeLessThan(500);
  expect(await serverErrors(), `the service answered a 5xx: ${note}`).toBe(errorsBefore);
  const ok = answer.status >= 200 && answer.status < 300;
  const expectation = fuzz.expectation;
  if (expectation.kind === 'accept') expect(ok, `must be accepted: ${note}`).toBe(true);
  if (expectation.kind === 'reject') {
    expect(ok, `must be rejected: ${note}`).toBe(false);
    if (expectation.status !== undefined) expect(answer.status, note).toBe(expectation.status);
  }
  // only node's own parser (or a hang-up) may end a connection without an answer
  if (answer.status === 0)
    expect(
      expectation.kind === 'no-answer' || (expectation.kind === 'reject' && expectation.stage === Stage.transport),
      `no answer: ${note}`,
    ).toBe(true);
  if (expectation.kind === 'no-answer') expect(ok, note).toBe(false);

  const stored = (await storedMessages()) - before;
  let eventId: string | null = null;
  if (ok) {
    expect(stored, `a 2xx must have stored exactly one message: ${note}`).toBe(1);
    const message = await jsm.streams.getMessage(service.names.eventsStream, {
      last_by_subj: service.names.eventSubject(provider, workspaceId),
    });
    const msgId = message!.header.get('Nats-Msg-Id');
    const envelope = message!.json<{ provider: string; workspaceId: string; event: { id: string } }>();
    // Nats-Msg-Id is <provider>:<workspaceId>:<eventId> (a Mollie notification's event id is `<tr_id>@<nonce>`)
    eventId = msgId.replace(`${provider}:${workspaceId}:`, '').replace(/@[^@]*$/, '');
    expect(fuzz.candidates, `stored ${msgId}: ${note}`).toContain(eventId);
    expect(envelope).toMatchObject({ provider, workspaceId, event: { id: eventId } });
  } else {
    expect(stored, `a rejected request stored a message: ${note}`).toBe(0);
    const [{ count }] = await sql<{ count: string }>('select count(*) from webhook_events where event_id like ?', [
      `%${fuzz.token}%`,
    ]);
    expect(Number(count), `a rejected request left an inbox row: ${note}`).toBe(0);
  }
  expect((await fetch(`${service.url}/healthz`)).status, `the service stopped answering after: ${note}`).toBe(200);
  return eventId;
}

/** Every accepted event reaches the settlement inbox exactly once, and nothing else does. */
async function expectInbox(provider: string, workspaceId: string, expected: Set<string>) {
  await eventually(async () => (await inboxIds(provider, workspaceId)).length >= expected.size, 20_000);
  expect(new Set(await inboxIds(provider, workspaceId))).toEqual(expected);
}

/** Run before the random cases: the valid request itself and both sides of the 512 KiB limit. */
const UNCHANGED = { host: { k: 'exact' }, route: { k: 'exact' }, headers: [], framing: { k: 'length' } } as const;
const STRIPE_EXAMPLES: Array<[StripeCaseMutations]> = [
  { k: 'as-is', pretty: true } as const,
  { k: 'pad', over: 0 } as const,
  { k: 'pad', over: 1 } as const,
].map((body) => [{ ...UNCHANGED, headers: [], body, timestamp: { k: 'now' }, signature: { k: 'valid' } }]);
const MOLLIE_EXAMPLES: Array<[MollieCaseMutations]> = [
  { k: 'valid', encoded: false } as const,
  { k: 'pad', over: 0 } as const,
  { k: 'pad', over: 1 } as const,
].map((body) => [{ ...UNCHANGED, headers: [], body }]);

describe('webhook fuzzer', () => {
  it(
    `Stripe: ${RUNS} mutated signed requests — no 5xx, 2xx exactly for valid ones, stored exactly when 2xx`,
    async () => {
      const invoice = await insertInvoice(service.orm, {
        workspaceId: stripeWs.caller.workspaceId,
        totalMinor: 1_000_000_000,
      });
      const accepted = new Set<string>();
      const ctx = {
        provider: 'stripe' as const,
        host: stripeWs.caller.workspaceDomain,
        otherHost: mollieCaller.workspaceDomain,
        secret: stripeWs.secret,
      };
      await fc.assert(
        fc.asyncProperty(stripeCase, async (mutations) => {
          const event = stripeWs.sessionEvent('checkout.session.completed', invoice.id, {
            amountMinor: 1,
          }) as unknown as Record<string, unknown>;
          const fuzz = buildStripeCase(mutations, { ...ctx, event, nowS: Math.floor(Date.now() / 1000) });
          const stored = await check(fuzz, 'stripe', stripeWs.caller.workspaceId);
          if (stored) accepted.add(stored);
        }),
        { numRuns: RUNS, seed: SEED, examples: STRIPE_EXAMPLES },
      );
      expect(accepted.size).toBeGreaterThan(0);
      await expectInbox('stripe', stripeWs.caller.workspaceId, accepted);
    },
    TIMEOUT_MS,
  );

  it(
    `Mollie: ${RUNS} mutated notifications — no 5xx, 2xx exactly for valid ones, stored exactly when 2xx`,
    async () => {
      const accepted = new Set<string>();
      const ctx = {
        provider: 'mollie' as const,
        host: mollieCaller.workspaceDomain,
        otherHost: stripeWs.caller.workspaceDomain,
      };
      await fc.assert(
        fc.asyncProperty(mollieCase, async (mutations) => {
          const fuzz = buildMollieCase(mutations, {
            ...ctx,
            token: `fz${randomBytes(8).toString('hex').slice(0, 10)}`,
          });
          const stored = await check(fuzz, 'mollie', mollieCaller.workspaceId);
          if (stored) accepted.add(stored);
        }),
        { numRuns: RUNS, seed: SEED, examples: MOLLIE_EXAMPLES },
      );
      expect(accepted.size).toBeGreaterThan(0);
      // ids no Mollie account knows: acknowledged, fetched back by the worker, recorded as ignored
      await expectInbox('mollie', mollieCaller.workspaceId, new Set([...accepted].map((id) => `${id}:unknown`)));
    },
    TIMEOUT_MS,
  );

  it('still accepts and settles a fresh valid Stripe event and Mollie notification afterwards', async () => {
    const stripeInvoice = await insertInvoice(service.orm, {
      workspaceId: stripeWs.caller.workspaceId,
      totalMinor: 2_500,
    });
    const event = stripeWs.sessionEvent('checkout.session.completed', stripeInvoice.id, { amountMinor: 2_500 });
    expect((await stripeWs.send(event)).status).toBe(200);

    const mollieInvoice = await insertInvoice(service.orm, {
      workspaceId: mollieCaller.workspaceId,
      totalMinor: 10_000,
    });
    const created = await fetch(`${mollie.url}/v2/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${mollieKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        amount: { currency: 'EUR', value: '100.00' },
        description: 'fuzz check',
        redirectUrl: 'https://example.com',
        metadata: { workspace_id: mollieCaller.workspaceId, invoice_id: mollieInvoice.id },
      }),
    });
    const payment = (await created.json()) as { id: string };
    await mollie.setPaymentStatus(payment.id, 'paid');
    const notification: WireRequest = {
      method: 'POST',
      target: MOLLIE_PATH,
      headers: [
        ['Host', mollieCaller.workspaceDomain],
        ['Content-Type', 'application/x-www-form-urlencoded'],
      ],
      body: Buffer.from(`id=${payment.id}`),
      framing: { kind: 'length' },
    };
    expect((await sendWire(service.port, notification)).status).toBe(200);

    const status = async (id: string) => (await invoiceRow(sql, id)).status;
    await eventually(
      async () => (await status(stripeInvoice.id)) === 'paid' && (await status(mollieInvoice.id)) === 'paid',
    );

    // nothing above or before was answered 5xx, not even to a client that had already gone
    expect(await serverErrors()).toBe(0);
    expect(service.logs.text).not.toMatch(/webhook handler failed|webhook not stored/);
  });
});

describe('regressions found by the fuzzer', () => {
  /** A validly signed Stripe event whose `type` is `type`: its answer and how many messages it stored. */
  async function sendType(type: string) {
    const invoice = await insertInvoice(service.orm, { workspaceId: stripeWs.caller.workspaceId });
    const event = { ...stripeWs.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 100 }), type };
    const before = await storedMessages();
    const answer = await stripeWs.send(event, { payload: JSON.stringify(event) });
    return { status: answer.status, stored: (await storedMessages()) - before };
  }

  it('refuses a signed Stripe event with a 64 KiB type with 400 (was 503 for good: NATS refuses such a header)', async () => {
    expect(await sendType('x'.repeat(64 * 1024))).toEqual({ status: 400, stored: 0 });
  });

  it('refuses a signed Stripe event whose type holds a line break with 400 (was 500: not a valid NATS header)', async () => {
    expect(await sendType('checkout.session.completed\r\nNats-Msg-Id: stripe:evt_forged')).toEqual({
      status: 400,
      stored: 0,
    });
    expect(await sendType('a\nb')).toEqual({ status: 400, stored: 0 });
  });

  it('still acknowledges a signed event of an unknown, well-formed type', async () => {
    expect(await sendType('v1.billing.meter.no_meter_found')).toEqual({ status: 200, stored: 1 });
  });

  it('does not count a sender that hangs up mid-body as a server error (was a 500 and an error log)', async () => {
    // Summed over providers: the fuzz cases above may have counted aborted Mollie requests too (one series each).
    const aborted = async () =>
      (await service.metrics.webhooks.get()).values
        .filter((value) => value.labels.outcome === 'aborted')
        .reduce((sum, value) => sum + value.value, 0);
    const [errorsBefore, abortedBefore] = [await serverErrors(), await aborted()];
    const answer = await sendWire(service.port, {
      method: 'POST',
      target: STRIPE_PATH,
      headers: [
        ['Host', stripeWs.caller.workspaceDomain],
        ['Content-Type', 'application/json'],
      ],
      body: Buffer.from('{"id":"evt_never_finished","object":"event"}'),
      framing: { kind: 'hangup', sendBytes: 0 },
    });
    expect([0, 400]).toContain(answer.status);
    await eventually(async () => (await aborted()) === abortedBefore + 1);
    expect(await serverErrors()).toBe(errorsBefore);
    expect(service.logs.text).not.toContain('webhook handler failed');
  });
});

describe('per-host flood', () => {
  // Its own service with a lower limit, so the flood outruns the refill even on a loaded machine.
  let flooded: TestService;
  let floodStripe: FakeStripe;
  let ws: StripeWorkspace;
  beforeAll(async () => {
    floodStripe = await startFakeStripe();
    flooded = await startTestService({ STRIPE_API_URL: floodStripe.url, WEBHOOK_RATE_PER_HOST: '20,200' }, [
      '--role',
      'api',
    ]);
    ws = await StripeWorkspace.connect(flooded, floodStripe);
  });
  afterAll(async () => {
    await flooded?.stop();
    await floodStripe?.close();
  });

  it('600 signed copies of one event for one host: only 200 or 429, never a 5xx, the event stored once', async () => {
    const invoice = await insertInvoice(flooded.orm, { workspaceId: ws.caller.workspaceId });
    const event = ws.sessionEvent('checkout.session.completed', invoice.id, { amountMinor: 1_234 });
    const floodJsm = await jetstreamManager(flooded.nats);
    const stored = async () => (await floodJsm.streams.info(flooded.names.eventsStream)).state.messages;
    const storedBefore = await stored();
    const started = Date.now();
    const statuses = await flood(async () => (await ws.send(event)).status, 600, 50);
    const seconds = (Date.now() - started) / 1000;
    const counts = tally(statuses);
    expect(Object.keys(counts).sort(), JSON.stringify(counts)).toEqual(['200', '429']);
    // The burst plus what flowed in meanwhile got through; the rest was refused before any lookup.
    expect(counts[200]).toBeGreaterThanOrEqual(200);
    expect(counts[200]).toBeLessThanOrEqual(200 + Math.ceil(seconds * 20) + 1);
    const fiveHundreds = (await flooded.metrics.httpRequests.get()).values.filter(
      (value) => Number(value.labels.status) >= 500,
    );
    expect(fiveHundreds).toEqual([]);
    expect(await stored()).toBe(storedBefore + 1);
  });
});
