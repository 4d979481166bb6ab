import { describe, expect, it } from 'vitest';
import { requestHost } from '../../../src/http/request-host.js';

type Headers = Record<string, string | string[] | undefined>;

describe('requestHost', () => {
  it.each<[string, Headers, boolean, string | null]>([
    ['a plain host', { host: 'acme.workestra.app' }, false, 'acme.workestra.app'],
    ['upper case', { host: 'Acme.Workestra.APP' }, false, 'acme.workestra.app'],
    ['a port', { host: 'acme.workestra.app:4001' }, false, 'acme.workestra.app'],
    ['a trailing dot', { host: 'acme.workestra.app.' }, false, 'acme.workestra.app'],
    ['a trailing dot and a port', { host: 'acme.workestra.app.:443' }, false, 'acme.workestra.app'],
    ['surrounding spaces', { host: '  acme.workestra.app  ' }, false, 'acme.workestra.app'],
    ['localhost with a port', { host: 'localhost:4001' }, false, 'localhost'],
    ['an IPv4 address', { host: '127.0.0.1:4001' }, false, '127.0.0.1'],
    ['no host', {}, false, null],
    ['an empty host', { host: '' }, false, null],
    [
      'X-Forwarded-Host ignored without trustProxy',
      { host: 'internal:4001', 'x-forwarded-host': 'acme.workestra.app' },
      false,
      'internal',
    ],
    [
      'X-Forwarded-Host used with trustProxy',
      { host: 'internal:4001', 'x-forwarded-host': 'Acme.Workestra.app:443' },
      true,
      'acme.workestra.app',
    ],
    [
      'the first of a comma list',
      { host: 'internal', 'x-forwarded-host': 'acme.workestra.app, proxy.internal' },
      true,
      'acme.workestra.app',
    ],
    [
      'spaces around the first of a comma list',
      { host: 'internal', 'x-forwarded-host': ' acme.workestra.app ,proxy.internal' },
      true,
      'acme.workestra.app',
    ],
    [
      'the first of a repeated header',
      { host: 'internal', 'x-forwarded-host': ['acme.workestra.app', 'proxy.internal'] },
      true,
      'acme.workestra.app',
    ],
    ['Host when a trusted proxy sends none', { host: 'acme.workestra.app' }, true, 'acme.workestra.app'],
    ['an empty X-Forwarded-Host is not replaced by Host', { host: 'internal', 'x-forwarded-host': '' }, true, null],
    [
      'a garbage X-Forwarded-Host is not replaced by Host',
      { host: 'internal', 'x-forwarded-host': 'evil.example/path' },
      true,
      null,
    ],
  ])('%s', (_name, headers, trustProxy, expected) => {
    expect(requestHost(headers, trustProxy)).toBe(expected);
  });

  it.each([
    ['a space inside', 'acme workestra.app'],
    ['a path', 'acme.workestra.app/api'],
    ['userinfo', 'user@acme.workestra.app'],
    ['an underscore', 'acme_pay.workestra.app'],
    ['non-ASCII', 'ümlaut.workestra.app'],
    ['an IPv6 literal', '[::1]:4001'],
    ['two ports', 'acme.workestra.app:80:443'],
    ['a non-numeric port', 'acme.workestra.app:http'],
    ['a NUL byte', 'acme.workestra.app\u0000'],
    ['only a port', ':4001'],
    ['254 characters', 'a'.repeat(254)],
  ])('refuses %s', (_name, host) => {
    expect(requestHost({ host }, false)).toBeNull();
  });

  it('accepts 253 characters', () => {
    expect(requestHost({ host: 'a'.repeat(253) }, false)).toBe('a'.repeat(253));
  });
});
