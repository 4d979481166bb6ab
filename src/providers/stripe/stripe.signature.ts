import { createHmac, timingSafeEqual } from 'node:crypto';

/** Stripe's default replay window. */
export const SIGNATURE_TOLERANCE_S = 300;

export type SignatureProblem =
  'missing signature' | 'malformed signature' | 'timestamp outside tolerance' | 'signature mismatch';

/**
 * Verifies a `Stripe-Signature` header (`t=<unix>,v1=<hex>[,v1=<hex>…]`) over the raw body exactly as Stripe
 * signs it: HMAC-SHA256 of `${t}.${body}` with the endpoint secret. Any one matching v1 passes (Stripe sends
 * several while a secret is being rolled). Returns null when valid, else the reason.
 */
export function verifyStripeSignature(
  rawBody: Buffer,
  header: string | undefined,
  secret: string,
  nowS = Math.floor(Date.now() / 1000),
  toleranceS = SIGNATURE_TOLERANCE_S,
): SignatureProblem | null {
  if (!header) return 'missing signature';
  let timestamp: number | null = null;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const index = part.indexOf('=');
    if (index < 0) continue;
    const key = part.slice(0, index).trim();
    const value = part.slice(index + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === null || signatures.length === 0) return 'malformed signature';
  if (Math.abs(nowS - timestamp) > toleranceS) return 'timestamp outside tolerance';
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest();
  return signatures.some((signature) => timingSafeEqual(signature, expected)) ? null : 'signature mismatch';
}
