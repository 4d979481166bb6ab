/** The host a request was sent to: lower-case, port dropped; `X-Forwarded-Host` only behind a trusted proxy. */
export function requestHost(
  headers: Record<string, string | string[] | undefined>,
  trustProxy: boolean,
): string | null {
  const forwarded = trustProxy ? headers['x-forwarded-host'] : undefined;
  const raw =
    (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0] ?? (headers.host as string | undefined);
  if (!raw) return null;
  const host = raw.trim().toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  return /^[a-z0-9.-]{1,253}$/.test(host) ? host : null;
}
