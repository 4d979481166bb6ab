import { describe, expect, it } from 'vitest';
import { MollieApiError } from '../../../src/providers/mollie/mollie.client.js';
import { callMollie } from '../../../src/providers/mollie/mollie.errors.js';
import { ProviderRequestError } from '../../../src/providers/payment-provider.js';

const DETAIL = 'The amount is higher than the amount that can be refunded (key live_SECRETabcdefghijklmnopqrstu)';

describe('callMollie', () => {
  it.each([
    [422, 'amount', 'Mollie refused to refund the payment: the request was not accepted (field "amount")'],
    [422, 'not a <field>', 'Mollie refused to refund the payment: the request was not accepted'],
    [422, null, 'Mollie refused to refund the payment: the request was not accepted'],
    [404, null, 'Mollie refused to refund the payment: it does not know the payment or refund'],
    [409, null, "Mollie refused to refund the payment: it conflicts with the payment's current state"],
  ])('a %s refusal (field %s) is told in our words; Mollie detail stays for logs', async (status, field, message) => {
    const error = await callMollie('refund the payment', () =>
      Promise.reject(new MollieApiError(status, 'Unprocessable Entity', DETAIL, field)),
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderRequestError);
    expect((error as ProviderRequestError).message).toBe(message);
    expect((error as ProviderRequestError).message).not.toContain('SECRET');
    expect((error as ProviderRequestError).detail).toContain(DETAIL);
  });
});
