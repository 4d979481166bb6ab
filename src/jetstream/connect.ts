import { connect, type NatsConnection } from '@nats-io/transport-node';

/** Connects to NATS (`NATS_URL`, one server or several, comma-separated) with endless reconnects. */
export async function connectNats(natsUrl: string, name: string): Promise<NatsConnection> {
  const servers = natsUrl
    .split(',')
    .map((server) => server.trim())
    .filter(Boolean);
  // noAsyncTraces: nats.js would otherwise build two Error objects (stack traces) per request, every publish included
  return connect({
    servers,
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    timeout: 5000,
    noAsyncTraces: true,
  });
}
