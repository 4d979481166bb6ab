/**
 * The ingest baseline: the least a webhook receiver can do. A bare `node:http` server that reads the body,
 * verifies the Stripe signature (the service's own function), parses the event id and publishes to JetStream
 * with a PubAck (msgID = event id) on its own stream, then answers 200. No framework, logging or metrics.
 * Env: PORT, NATS_URL, BASE_SUBJECT, BASE_STREAM, WEBHOOK_SECRET. Serves /readyz for the bench to wait on.
 */
import { createServer } from 'node:http';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { verifyStripeSignature } from '../src/providers/stripe/stripe.signature.js';

async function main(): Promise<void> {
  const env = process.env as Record<string, string>;
  // the same connection options as the service (noAsyncTraces: no stack-trace objects per request)
  const nc = await connect({ servers: env.NATS_URL, name: 'workestra-bench-baseline-http', noAsyncTraces: true });
  const js = jetstream(nc);
  const subject = env.BASE_SUBJECT;
  const secret = env.WEBHOOK_SECRET;
  const server = createServer((req, res) => {
    if (req.url === '/readyz') {
      res.writeHead(200).end('ok');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const header = req.headers['stripe-signature'];
      if (verifyStripeSignature(body, Array.isArray(header) ? header.join(',') : header, secret) !== null) {
        res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":"bad signature"}');
        return;
      }
      let eventId: string;
      try {
        eventId = (JSON.parse(body.toString('utf8')) as { id: string }).id;
      } catch {
        res.writeHead(400).end();
        return;
      }
      js.publish(subject, body, {
        msgID: `stripe:${eventId}`,
        expect: { streamName: env.BASE_STREAM },
        timeout: 2000,
      }).then(
        (ack) =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(`{"received":true,"duplicate":${ack.duplicate}}`),
        () => res.writeHead(503).end(),
      );
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(Number(env.PORT), '127.0.0.1');
  const stop = () => {
    server.close(() => void nc.drain().finally(() => process.exit(0)));
    server.closeAllConnections();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main();
