import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestService, type TestService } from '../../helpers/service.js';
import { newCaller, tokenFor } from '../../helpers/tokens.js';

interface Shape {
  errors: Array<{ message: string; extensions: { code: string } }>;
}

/** Every `/graphql` failure, also those before GraphQL runs, answers `{errors: [{message, extensions: {code}}]}`. */
describe('/graphql failures before GraphQL runs keep the GraphQL error shape', () => {
  let service: TestService;
  let token: string;
  beforeAll(async () => {
    service = await startTestService();
    token = await tokenFor(newCaller(['owner']));
  });
  afterAll(async () => {
    await service?.stop();
  });

  const post = async (body: string | Buffer, headers: Record<string, string>) => {
    const response = await fetch(`${service.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, ...headers },
      body,
    });
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    return { status: response.status, body: (await response.json()) as Shape };
  };
  const json = { 'content-type': 'application/json' };
  const secret = 'sk_test_thisMustNeverComeBack0000000';

  it.each<[string, string | Buffer, Record<string, string>, number, string, RegExp]>([
    [
      'a body over 1 MB',
      JSON.stringify({ query: `{ __typename }`, variables: { pad: 'x'.repeat(1_100_000) } }),
      json,
      413,
      'PAYLOAD_TOO_LARGE',
      /larger than the 1mb limit/,
    ],
    [
      'malformed JSON',
      `{"query": "mutation { saveStripeKeys(input: {secretKey: \\"${secret}\\"`,
      json,
      400,
      'BAD_REQUEST',
      /not valid JSON/,
    ],
    ['a JSON string instead of an object', '"{ __typename }"', json, 400, 'BAD_REQUEST', /must be a JSON object/],
    [
      'text/plain',
      '{"query": "{ __typename }"}',
      { 'content-type': 'text/plain' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      /needs Content-Type: application\/json \(got "text\/plain"\)/,
    ],
    [
      'a form body',
      'query=%7B__typename%7D',
      { 'content-type': 'application/x-www-form-urlencoded' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      /needs Content-Type: application\/json/,
    ],
    ['no content type', Buffer.from('{"query": "{ __typename }"}'), {}, 415, 'UNSUPPORTED_MEDIA_TYPE', /\(got none\)/],
    [
      'a charset other than UTF-8',
      '{"query": "{ __typename }"}',
      { 'content-type': 'application/json; charset=latin9' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      /UTF-8/,
    ],
    [
      'an unknown content encoding',
      '{"query": "{ __typename }"}',
      { 'content-type': 'application/json', 'content-encoding': 'br2' },
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      /Content-Encoding/,
    ],
  ])('%s', async (_name, body, headers, status, code, message) => {
    const answer = await post(body, headers);
    expect(answer.status).toBe(status);
    expect(answer.body.errors).toHaveLength(1);
    expect(answer.body.errors[0].extensions.code).toBe(code);
    expect(answer.body.errors[0].message).toMatch(message);
    expect(JSON.stringify(answer.body)).not.toContain(secret);
  });

  it('still serves JSON with a charset', async () => {
    const answer = await post('{"query": "{ __typename }"}', { 'content-type': 'application/json; charset=utf-8' });
    expect(answer).toEqual({ status: 200, body: { data: { __typename: 'Query' } } });
  });

  it('keeps Apollo’s own refusals in the same shape (batching, wrong method)', async () => {
    const batch = await post('[{"query": "{ __typename }"}]', json);
    expect(batch.status).toBe(400);
    expect(batch.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    const put = await fetch(`${service.url}/graphql`, { method: 'PUT', headers: json, body: '{}' });
    expect(put.status).toBe(405);
    expect(((await put.json()) as Shape).errors[0].extensions.code).toBe('BAD_REQUEST');
  });

  it('logs none of them as an unhandled error', () => {
    expect(service.logs.text).not.toContain('unhandled error');
    expect(service.logs.text).not.toContain(secret);
  });
});
