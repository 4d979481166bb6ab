import { randomBytes } from 'node:crypto';

/** A fresh 192-bit URL-safe pay-link token. */
export const newPayToken = () => randomBytes(24).toString('base64url');

/** What a pay-link token looks like; anything else is not looked up. */
export const PAY_TOKEN_FORMAT = /^[A-Za-z0-9_-]{32}$/;
