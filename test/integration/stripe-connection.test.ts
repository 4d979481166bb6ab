import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseKeyRing } from '../../src/crypto/key-ring.js';
import { SecretDecryptionError } from '../../src/crypto/secret-box.js';
import { fingerprintSecret } from '../../src/crypto/secret-display.js';
import { AccountSecrets } from '../../src/crypto/account-secrets.js';
import type { FakeStripe } from '../fakes/stripe/fake-stripe.server.js';
import { sqlOn } from '../helpers/db.js';
import { TEST_ENCRYPTION_KEYS } from '../helpers/env.js';
import { insertInvoice, insertPayment } from '../helpers/fixtures.js';
import type { TestService } from '../helpers/service.js';
import { connectStripe, SAVE_STRIPE_KEYS, startWithFakeStripe, testKeys } from '../helpers/stripe.js';
import { newCaller, tokenFor, type TestCaller } from '../helpers/tokens.js';

const PROVIDERS =
  '{ paymentProviders { provider mode active offerCardPayments publishableKey secretKeyMasked webhookSecretMasked webhookUrl } }';
const PAY_LINK =
  'query ($reps: [_Any!]!) { _entities(representations: $reps) { ... on Invoice { payLink { url } providerSettings { provider active } } } }';

describe('connecting Stripe', () => {
  let service: TestService;
  let stripe: FakeStripe;
  beforeAll(async () => {
    ({ service, stripe } = await startWithFakeStripe());
  });
  afterAll(async () => {
    await service?.stop();
    await stripe?.close();
  });

  const sql = sqlOn(() => service.orm);
  const save = async (caller: TestCaller, input: Record<string, unknown>) =>
    service.gql(SAVE_STRIPE_KEYS, { input }, await tokenFor(caller));
  const storedFor = async (workspaceId: string) => ({
    accounts: await sql('select * from payment_provider_accounts where workspace_id = ?', [workspaceId]),
    audit: await sql('select * from audit_log where workspace_id = ? order by created_at, action', [workspaceId]),
  });

  it('stores keys sealed, shows them masked, audits fingerprints only, and never logs a secret', async () => {
    const caller = newCaller(['owner']);
    const keys = testKeys();
    const result = await save(caller, { ...keys, mode: 'TEST', offerCardPayments: true });
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      saveStripeKeys: expect.objectContaining({
        provider: 'STRIPE',
        mode: 'TEST',
        active: true,
        offerCardPayments: true,
        publishableKey: keys.publishableKey,
        secretKeyMasked: 'sk_test_…4242',
        webhookSecretMasked: 'whsec_…9f2c',
        webhookUrl: `https://${caller.workspaceDomain}/api/finance/payments/stripe/webhook`,
      }),
    });
    // The key was verified with a cheap authenticated GET.
    expect(
      stripe.requests.some(
        (request) => request.method === 'GET' && request.path === '/v1/balance' && request.apiKey === keys.secretKey,
      ),
    ).toBe(true);

    // No column of any table holds the plaintext secrets.
    const tables = await sql<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'public'",
    );
    for (const { table_name: table } of tables) {
      const rows = await sql(`select * from "${table}"`);
      const dump = JSON.stringify(rows);
      expect(dump, table).not.toContain(keys.secretKey);
      expect(dump, table).not.toContain(keys.webhookSecret);
      expect(dump, table).not.toContain(Buffer.from(keys.secretKey).toString('base64'));
    }
    const { audit } = await storedFor(caller.workspaceId);
    expect(audit.map((row) => row.action).sort()).toEqual([
      'payments.provider.activated',
      'payments.provider.keys_saved',
    ]);
    const saved = audit.find((row) => row.action === 'payments.provider.keys_saved')!;
    expect(saved).toMatchObject({ actor_id: caller.userId, provider: 'stripe' });
    expect(saved.details).toMatchObject({
      mode: 'test',
      secretKeyFingerprint: fingerprintSecret(keys.secretKey),
      webhookSecretFingerprint: fingerprintSecret(keys.webhookSecret!),
    });
    expect(service.logs.text).not.toContain(keys.secretKey);
    expect(service.logs.text).not.toContain(keys.webhookSecret);

    const listed = await service.gql<{ paymentProviders: unknown[] }>(
      PROVIDERS,
      undefined,
      await tokenFor(newCaller(['viewer'], caller.workspaceId)),
    );
    const { updatedAt: _updatedAt, ...settings } = (result.data as { saveStripeKeys: Record<string, unknown> })
      .saveStripeKeys;
    expect(listed.data?.paymentProviders).toEqual([settings]);
    expect(JSON.stringify(listed)).not.toContain(keys.secretKey);
  });

  it('logs a rotation on the second save', async () => {
    const caller = newCaller(['admin']);
    await connectStripe(service, caller);
    const rotated = testKeys();
    await connectStripe(service, caller, { keys: rotated });
    const { audit, accounts } = await storedFor(caller.workspaceId);
    expect(
      audit.filter((row) => String(row.action).startsWith('payments.provider.keys')).map((row) => row.action),
    ).toEqual(['payments.provider.keys_saved', 'payments.provider.keys_rotated']);
    expect(accounts).toHaveLength(1);
    expect(
      new AccountSecrets(parseKeyRing(TEST_ENCRYPTION_KEYS)).open(
        { workspaceId: caller.workspaceId, provider: 'stripe' as never },
        'secretKey',
        String(accounts[0].secret_key_sealed),
      ),
    ).toBe(rotated.secretKey);
  });

  it('creates the webhook endpoint at Stripe when no signing secret is given, and deletes it when replaced', async () => {
    const caller = newCaller(['owner']);
    const keys = testKeys('test', false);
    const result = await save(caller, { ...keys, mode: 'TEST', offerCardPayments: true });
    expect(result.errors).toBeUndefined();
    const endpoints = [...stripe.webhookEndpoints.values()].filter((endpoint) =>
      endpoint.url.includes(caller.workspaceDomain),
    );
    expect(endpoints).toHaveLength(1);
    expect(endpoints[0]).toMatchObject({
      url: `https://${caller.workspaceDomain}/api/finance/payments/stripe/webhook`,
      enabled_events: [
        'checkout.session.completed',
        'checkout.session.async_payment_succeeded',
        'checkout.session.async_payment_failed',
        'checkout.session.expired',
        'charge.refunded',
        'refund.created',
        'refund.updated',
        'refund.failed',
        'charge.dispute.created',
        'charge.dispute.updated',
        'charge.dispute.closed',
        'charge.dispute.funds_withdrawn',
        'charge.dispute.funds_reinstated',
      ],
    });
    const secret = endpoints[0].secret!;
    expect(
      (result.data as { saveStripeKeys: { webhookSecretMasked: string } }).saveStripeKeys.webhookSecretMasked,
    ).toBe(`whsec_…${secret.slice(-4)}`);
    const { accounts } = await storedFor(caller.workspaceId);
    expect(JSON.stringify(accounts)).not.toContain(secret);

    await save(caller, { ...keys, mode: 'TEST', offerCardPayments: true });
    await expect.poll(() => stripe.webhookEndpoints.has(endpoints[0].id)).toBe(false);
  });

  it.each([
    ['a live secret key in TEST mode', { ...testKeys('live'), mode: 'TEST' }, /sk_test_/],
    [
      'a test publishable key in LIVE mode',
      { ...testKeys('live'), publishableKey: 'pk_test_abcdef123456', mode: 'LIVE' },
      /pk_live_/,
    ],
    [
      'a webhook secret without whsec_',
      { ...testKeys(), webhookSecret: 'sec_abcdef1234567890', mode: 'TEST' },
      /whsec_/,
    ],
    [
      'a publishable key as secret key',
      { ...testKeys(), secretKey: 'pk_test_abcdef1234567890', mode: 'TEST' },
      /sk_test_/,
    ],
  ])('refuses %s with BAD_USER_INPUT and stores nothing', async (_name, input, message) => {
    const caller = newCaller(['owner']);
    stripe.clearRequests();
    const result = await save(caller, { offerCardPayments: true, ...input });
    expect(result.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringMatching(message),
    });
    expect(await storedFor(caller.workspaceId)).toEqual({ accounts: [], audit: [] });
    expect(stripe.requests).toHaveLength(0);
  });

  it('refuses a key Stripe rejects (BAD_USER_INPUT) and an unreachable Stripe (PROVIDER_ERROR), storing nothing', async () => {
    const caller = newCaller(['owner']);
    const keys = testKeys();
    stripe.rejectKey(keys.secretKey);
    const rejected = await save(caller, { ...keys, mode: 'TEST', offerCardPayments: true });
    expect(rejected.errors?.[0]).toMatchObject({
      message: 'Stripe rejected the secret key',
      extensions: { code: 'BAD_USER_INPUT' },
    });
    expect(JSON.stringify(rejected)).not.toContain(keys.secretKey.slice(8));

    stripe.setOutage(true, { shouldRetry: false });
    try {
      const down = await save(caller, { ...testKeys(), mode: 'TEST', offerCardPayments: true });
      expect(down.errors?.[0]?.extensions?.code).toBe('PROVIDER_ERROR');
      expect(down.errors?.[0]?.message).not.toMatch(/at .*\.js|stack|sk_test/);
    } finally {
      stripe.setOutage(false);
    }
    expect(await storedFor(caller.workspaceId)).toEqual({ accounts: [], audit: [] });
  });

  it('is FORBIDDEN for viewer and finance, before any provider call', async () => {
    for (const role of ['viewer', 'finance']) {
      const caller = newCaller([role]);
      stripe.clearRequests();
      const result = await save(caller, { ...testKeys(), mode: 'TEST', offerCardPayments: true });
      expect(result.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      expect(stripe.requests).toHaveLength(0);
      expect(await storedFor(caller.workspaceId)).toEqual({ accounts: [], audit: [] });
    }
  });

  it('binds ciphertexts to their workspace, and still decrypts secrets sealed under an older key id', async () => {
    const a = newCaller(['owner']);
    const b = newCaller(['owner']);
    await connectStripe(service, a);
    const keysB = await connectStripe(service, b);
    const [rowA] = await sql<{ secret_key_sealed: string }>(
      'select secret_key_sealed from payment_provider_accounts where workspace_id = ?',
      [a.workspaceId],
    );
    const secrets = new AccountSecrets(parseKeyRing(TEST_ENCRYPTION_KEYS));
    expect(() =>
      secrets.open({ workspaceId: b.workspaceId, provider: 'stripe' as never }, 'secretKey', rowA.secret_key_sealed),
    ).toThrow(SecretDecryptionError);
    expect(() =>
      secrets.open(
        { workspaceId: a.workspaceId, provider: 'stripe' as never },
        'webhookSecret',
        rowA.secret_key_sealed,
      ),
    ).toThrow(SecretDecryptionError);

    // A value sealed when k1 was the primary key still opens with the rotated ring (k2 first, k1 kept).
    const oldRing = new AccountSecrets(parseKeyRing(TEST_ENCRYPTION_KEYS.split(',')[1]));
    const sealedUnderK1 = oldRing.seal(
      { workspaceId: b.workspaceId, provider: 'stripe' as never },
      'secretKey',
      keysB.secretKey,
    );
    expect(sealedUnderK1.split('.')[1]).toBe('k1');
    expect(secrets.open({ workspaceId: b.workspaceId, provider: 'stripe' as never }, 'secretKey', sealedUnderK1)).toBe(
      keysB.secretKey,
    );
  });

  it('deactivates and reactivates; disconnect takes the account out of use at once, wipes its secrets when the grace window ends, and keeps the ledger', async () => {
    const owner = newCaller(['owner']);
    const keys = testKeys('test', false);
    await connectStripe(service, owner, { keys });
    const endpointId = [...stripe.webhookEndpoints.values()].find((endpoint) =>
      endpoint.url.includes(owner.workspaceDomain),
    )!.id;
    const invoice = await insertInvoice(service.orm, { workspaceId: owner.workspaceId });
    const paymentId = await insertPayment(service.orm, {
      workspaceId: owner.workspaceId,
      invoiceId: invoice.id,
      amountMinor: 500,
    });
    const token = await tokenFor(owner);
    const linkOf = async () =>
      (
        await service.gql<{
          _entities: Array<{ payLink: { url: string } | null; providerSettings: { active: boolean } | null }>;
        }>(PAY_LINK, { reps: [{ __typename: 'Invoice', id: invoice.id }] }, token)
      ).data!._entities[0];
    expect((await linkOf()).payLink?.url).toMatch(/\/pay\//);

    const toggle =
      'mutation ($active: Boolean!) { setPaymentProviderActive(provider: STRIPE, active: $active) { active } }';
    expect((await service.gql(toggle, { active: false }, token)).data).toEqual({
      setPaymentProviderActive: { active: false },
    });
    expect(await linkOf()).toEqual({ payLink: null, providerSettings: null });
    expect((await service.gql(toggle, { active: true }, token)).data).toEqual({
      setPaymentProviderActive: { active: true },
    });
    expect((await linkOf()).payLink).not.toBeNull();
    const forbidden = await service.gql(
      toggle,
      { active: false },
      await tokenFor(newCaller(['finance'], owner.workspaceId)),
    );
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const stranger = await service.gql(toggle, { active: true }, await tokenFor(newCaller(['owner'])));
    expect(stranger.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');

    const disconnect = 'mutation { disconnectPaymentProvider(provider: STRIPE) }';
    expect((await service.gql(disconnect, undefined, token)).data).toEqual({ disconnectPaymentProvider: true });
    expect(await linkOf()).toEqual({ payLink: null, providerSettings: null });
    expect(
      (await service.gql<{ paymentProviders: unknown[] }>(PROVIDERS, undefined, token)).data?.paymentProviders,
    ).toEqual([]);
    // Round 2: the sealed keys are kept for the grace window (webhooks of payments already made still settle) …
    const [inGrace] = (await storedFor(owner.workspaceId)).accounts;
    expect(inGrace).toMatchObject({ active: false, secret_key_sealed: expect.any(String) });
    expect(stripe.webhookEndpoints.has(endpointId)).toBe(true);
    // … and wiped, with the endpoint deleted, once it is over (DISCONNECT_GRACE_HOURS, 72 by default).
    // (scoped to this workspace: other test files of the run share the database and keep their own windows open)
    expect(
      await service.services.providerSettings.endGrace(new Date(Date.now() + 73 * 3_600_000), owner.workspaceId),
    ).toBe(1);
    const [account] = (await storedFor(owner.workspaceId)).accounts;
    expect(account).toMatchObject({
      secret_key_sealed: null,
      webhook_secret_sealed: null,
      secret_key_masked: null,
      active: false,
    });
    expect(await sql('select id from invoice_payments where id = ?', [paymentId])).toHaveLength(1);
    await expect.poll(() => stripe.webhookEndpoints.has(endpointId)).toBe(false);
    expect((await service.gql(disconnect, undefined, token)).data).toEqual({ disconnectPaymentProvider: false });
    const actions = (await storedFor(owner.workspaceId)).audit.map((row) => row.action);
    expect(actions).toEqual(
      expect.arrayContaining([
        'payments.provider.deactivated',
        'payments.provider.activated',
        'payments.provider.disconnected',
      ]),
    );
  });

  it('keeps one provider active per workspace and hides settings from other workspaces', async () => {
    const owner = newCaller(['owner']);
    await connectStripe(service, owner);
    const other = newCaller(['owner']);
    const seen = await service.gql<{ paymentProviders: unknown[] }>(PROVIDERS, undefined, await tokenFor(other));
    expect(seen.data?.paymentProviders).toEqual([]);
    await expect(
      sql(
        "insert into payment_provider_accounts (id, workspace_id, workspace_domain, provider, mode, active) values (?, ?, 'x.example.com', 'mollie', 'test', true)",
        [randomUUID(), owner.workspaceId],
      ),
    ).rejects.toThrow(/payment_provider_accounts_one_active/);
  });
});
