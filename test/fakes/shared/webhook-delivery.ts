/** Webhook sending both fake providers share: a raw POST with a chosen Host, and a serial delivery queue. */
import http from 'node:http';
import https from 'node:https';

export interface PostResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** POSTs `payload` to `targetUrl` over node:http(s), so `headers.host` can name a host other than the target's. */
export function postRaw(
  targetUrl: string,
  headers: Record<string, string | number>,
  payload: string,
  timeoutMs = 10_000,
): Promise<PostResult> {
  const url = new URL(targetUrl);
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(url, { method: 'POST', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('webhook delivery timed out')));
    req.on('error', reject);
    req.end(payload);
  });
}

/** `target`'s path and query on `baseUrl` (the service under test) instead of its own origin. */
export const onBaseUrl = (baseUrl: string, target: URL): string =>
  `${baseUrl.replace(/\/+$/, '')}${target.pathname}${target.search}`;

/** Runs deliveries one at a time, in the order they were queued; `flush()` waits for all queued so far. */
export class DeliveryQueue {
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;

  /** Queues `deliver`, run after every earlier one (and after `delayMs`, when given). */
  run<T>(delayMs: number | undefined, deliver: () => Promise<T>): Promise<T> {
    this.queued += 1;
    const run = this.queue.then(async () => {
      try {
        if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
        return await deliver();
      } finally {
        this.queued -= 1;
      }
    });
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Resolves once every queued delivery has been answered (or failed). */
  async flush(): Promise<void> {
    while (this.queued > 0) await this.queue;
  }
}

/** Fills `delivery` with what `send` answered, or with its error (a refused or timed-out call is status 0). */
export async function completeDelivery<D extends { status: number; body: string; error: string | null }>(
  delivery: D,
  send: () => Promise<{ status: number; body: string }>,
): Promise<D> {
  try {
    const result = await send();
    delivery.status = result.status;
    delivery.body = result.body;
  } catch (error) {
    delivery.error = error instanceof Error ? error.message : String(error);
  }
  return delivery;
}

/** Runs `act` with a dispatcher's automatic delivery off: what it does at the provider never reaches the service. */
export async function withoutDelivery<T>(dispatcher: { autoDeliver: unknown }, act: () => Promise<T> | T): Promise<T> {
  const saved = dispatcher.autoDeliver;
  dispatcher.autoDeliver = null;
  try {
    return await act();
  } finally {
    dispatcher.autoDeliver = saved;
  }
}
