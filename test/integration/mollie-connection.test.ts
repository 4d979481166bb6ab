import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeMollie, type FakeMollie } from '../fakes/mollie/fake-mollie.server.js';
import { postWithHost } from '../helpers/post-with-host.js';
import { startTestService, type TestService } from '../helpers/service.js';
import { newCaller, tokenFor } from '../helpers/tokens.js';

const SAVE =
  'mutation ($input: SaveMollieKeysInput!) { saveMollieKeys(input: $input) { provider mode active publishableKey secretKeyMasked webhookSecretMasked webhookUrl } }';

describe('connecting Mollie', () => {
  let service: TestService;
  let mollie: FakeMollie;
  beforeAll(async () => {
    mollie = await startFakeMollie();
    service = await startTestService({ MOLLIE_API_URL: mollie.url });
  });
  afterAll(async () => {
    await service?.stop();
    await mollie?.close();
  });

  it('verifies the key with Mollie, stores it sealed and shows it masked, with the Mollie webhook URL', async () => {
    const caller = newCaller(['admin']);
    const apiKey = 'test_dHar4XY7LxsDOtmnkVtjNVWXLSlXAbCd';
    const result = await service.gql(
      SAVE,
      { input: { apiKey, mode: 'TEST', offerCardPayments: true } },
      await tokenFor(caller),
    );
    expect(result.data).toEqual({
      saveMollieKeys: {
        provider: 'MOLLIE',
        mode: 'TEST',
        active: true,
        publishableKey: null,
        secretKeyMasked: 'test_…AbCd',
        webhookSecretMasked: null,
        webhookUrl: `https://${caller.workspaceDomain}/api/finance/payments/mollie/webhook`,
      },
    });
    expect(mollie.requests.some((request) => request.path === '/v2/methods' && request.apiKey === apiKey)).toBe(true);
    const rows = await service.orm.em
      .getConnection()
      .execute('select * from payment_provider_accounts where workspace_id = ?', [caller.workspaceId]);
    expect(JSON.stringify(rows)).not.toContain(apiKey);
    expect(service.logs.text).not.toContain(apiKey);
  });

  it('refuses a key of the wrong mode or one Mollie rejects, storing nothing', async () => {
    const caller = newCaller(['owner']);
    const token = await tokenFor(caller);
    const wrongMode = await service.gql(
      SAVE,
      { input: { apiKey: 'test_dHar4XY7LxsDOtmnkVtjNVWXLSlXAbCd', mode: 'LIVE', offerCardPayments: true } },
      token,
    );
    expect(wrongMode.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringContaining('live_'),
    });
    const rejectedKey = 'test_rejectedrejectedrejectedrejected1';
    mollie.rejectKey(rejectedKey);
    const rejected = await service.gql(
      SAVE,
      { input: { apiKey: rejectedKey, mode: 'TEST', offerCardPayments: true } },
      token,
    );
    expect(rejected.errors?.[0]).toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: 'Mollie rejected the API key',
    });
    expect(
      await service.orm.em
        .getConnection()
        .execute('select id from payment_provider_accounts where workspace_id = ?', [caller.workspaceId]),
    ).toEqual([]);
  });

  it('answers 400 for a notification that is not id=tr_…, 200 for a valid one, and 404 for an unknown host', async () => {
    const caller = newCaller(['owner']);
    await service.gql(
      SAVE,
      { input: { apiKey: 'test_bHar4XY7LxsDOtmnkVtjNVWXLSlXAbCd', mode: 'TEST', offerCardPayments: true } },
      await tokenFor(caller),
    );
    const post = (body: string, host: string) =>
      postWithHost(`${service.url}/api/finance/payments/mollie/webhook`, host, body, {
        'content-type': 'application/x-www-form-urlencoded',
      });
    expect(await post('id=cs_test_notmollie', caller.workspaceDomain)).toBe(400);
    expect(await post('', caller.workspaceDomain)).toBe(400);
    expect(await post('id=tr_WDqYK6vllg', caller.workspaceDomain)).toBe(200);
    expect(await post('id=tr_WDqYK6vllg', 'nobody.workestra.test')).toBe(404);
  });
});
