/** What both fake provider servers share: a loopback listener, request recording, fault and key controls. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FaultControl } from './fake-http';

/** A plain http server listening on 127.0.0.1 with a free port. */
export async function listenOnLoopback(port = 0): Promise<{ server: http.Server; port: number }> {
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}

/** The controls every fake offers tests; `RecordedRequest` is the fake's own record type. */
export abstract class FakeApiServer<RecordedRequest, Faults extends FaultControl> {
  readonly url: string;
  readonly host = '127.0.0.1';
  /** Every API request, oldest first. */
  readonly requests: RecordedRequest[] = [];
  protected abstract readonly idempotency: { clear(): void };
  protected abstract readonly dispatcher: { flush(): Promise<void> };

  constructor(
    protected readonly server: http.Server,
    readonly port: number,
    protected readonly faultControl: Faults,
    rejectKeys: string[] = [],
  ) {
    this.url = `http://${this.host}:${port}`;
    for (const key of rejectKeys) this.faultControl.rejectedKeys.add(key);
  }

  clearRequests(): void {
    this.requests.length = 0;
  }
  rejectKey(key: string): void {
    this.faultControl.rejectedKeys.add(key);
  }
  acceptKey(key: string): void {
    this.faultControl.rejectedKeys.delete(key);
  }
  /** Delays every API answer (for timeout tests). */
  setLatency(ms: number): void {
    this.faultControl.latencyMs = ms;
  }
  /** Forgets stored idempotent answers (the real providers keep them about 24 h). */
  clearIdempotencyKeys(): void {
    this.idempotency.clear();
  }

  /** Waits until every queued webhook delivery has been answered. */
  flushDeliveries(): Promise<void> {
    return this.dispatcher.flush();
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  /** `value` once the webhooks it caused have been delivered. */
  protected async settled<T>(value: T): Promise<T> {
    await this.dispatcher.flush();
    return value;
  }
}
