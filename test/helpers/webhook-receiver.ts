import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One webhook POST as the receiver saw it. */
export interface Captured {
  headers: http.IncomingHttpHeaders;
  body: string;
  url: string;
}

export interface WebhookReceiver {
  url: string;
  hits: Captured[];
  close: () => Promise<void>;
}

/** A tiny local "service" that records webhook POSTs and answers each with 200 and `body`. */
export async function startWebhookReceiver(
  body: string,
  headers: http.OutgoingHttpHeaders = {},
): Promise<WebhookReceiver> {
  const hits: Captured[] = [];
  const server = http.createServer((req, res) => {
    let received = '';
    req.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));
    req.on('end', () => {
      hits.push({ headers: req.headers, body: received, url: req.url ?? '' });
      res.writeHead(200, headers).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, hits, close: () => new Promise((r) => server.close(() => r())) };
}
