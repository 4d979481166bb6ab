import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/auth/jwt.js';
import { DEV_JWT_SECRET } from '../../src/config.js';
import { insertSentInvoice, signDevToken, toPgPlaceholders } from '../../scripts/playground.js';

/** The local playground's pieces (README "Local playground"): what `dev:token` and `dev:invoice` produce. */
describe('playground pieces', () => {
  it('signs a token the service accepts with its dev secret, carrying the workspace, domain and roles', async () => {
    const workspaceId = randomUUID();
    const token = await signDevToken({
      secret: DEV_JWT_SECRET,
      workspaceId,
      workspaceDomain: 'acme.localhost',
      roles: ['owner', 'finance'],
    });
    expect(await new JwtVerifier(DEV_JWT_SECRET).fromHeader(`Bearer ${token}`)).toMatchObject({
      workspaceId,
      workspaceDomain: 'acme.localhost',
      roles: ['owner', 'finance'],
    });
  });

  it('inserts a sent invoice with defaults for what is left out', async () => {
    const calls: Array<{ sql: string; params: unknown[] }> = [];
    const invoice = await insertSentInvoice(async (sql, params) => calls.push({ sql, params }), {
      workspaceId: 'w',
      totalMinor: 500,
      number: undefined,
    });
    expect(invoice).toMatchObject({ workspaceId: 'w', totalMinor: 500, currency: 'EUR' });
    expect(invoice.number).toMatch(/^INV-\d{4}$/);
    expect(calls[0].sql).toContain("'sent'");
    expect(calls[0].params).toEqual([invoice.id, 'w', invoice.number, 'EUR', 500, 'payer@example.com']);
    expect(toPgPlaceholders('values (?, ?, ?)')).toBe('values ($1, $2, $3)');
  });
});
