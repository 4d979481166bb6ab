import type { NatsConnection } from '@nats-io/transport-node';

/** Raised into a pending re-bind when the connection came back: retry now rather than wait for its timeout. */
export class Reconnected extends Error {}

/**
 * Watches a connection's reconnects. `next` rejects with Reconnected at the next reconnect (a JetStream request sent
 * while the server was away is never answered: racing it against `next` ends the wait at once).
 */
export class ReconnectSignal {
  private fire: () => void = () => {};
  next: Promise<never>;

  constructor(nc: NatsConnection | undefined, onReconnect: () => void, isStopping: () => boolean) {
    this.next = this.arm();
    if (!nc) return;
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type !== 'reconnect' || isStopping()) continue;
        const fire = this.fire;
        this.next = this.arm();
        fire();
        onReconnect();
      }
    })().catch(() => {});
  }

  private arm(): Promise<never> {
    const next = new Promise<never>((_, reject) => (this.fire = () => reject(new Reconnected())));
    next.catch(() => {});
    return next;
  }
}
