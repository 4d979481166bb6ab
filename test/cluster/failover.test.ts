import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jetStreamNames } from '../../src/jetstream/names.js';
import { tokenFor } from '../helpers/tokens.js';
import { ACK_WAIT_MS, insertInvoices, PREFIX, startCluster, type Cluster } from './cluster-harness.js';
import { SettlementProgress } from '../helpers/settlement-progress.js';
import { appliedBy, rebindsOf, reconcile, sleep, waits } from './cluster-checks.js';
import { WebhookLoad } from './webhook-load.js';

/**
 * Real and private: three nats-servers in one JetStream cluster (both streams R3), PostgreSQL 15, two api and two
 * worker processes of the built service. Faults are injected while signed Stripe webhooks flow; each case prints its
 * figures (measured on whatever machine runs it: on a shared 2-core box they are pessimistic).
 */
describe('on a three-node JetStream cluster', () => {
  let cluster: Cluster;
  let progress: SettlementProgress;
  const names = jetStreamNames(PREFIX);
  const pids = () => [...cluster.apis, ...cluster.workers].map((p) => p.child.pid);
  let startPids: Array<number | undefined>;
  const report = (what: string, figures: Record<string, unknown>) =>
    console.log(`[cluster] ${what}: ${JSON.stringify(figures)}`);

  beforeAll(async () => {
    cluster = await startCluster();
    startPids = pids();
    progress = new SettlementProgress(cluster.db);
    progress.start();
  }, 180_000);
  afterAll(async () => {
    progress?.stop();
    await cluster?.dispose();
  }, 60_000);

  const dlqMessages = async () => {
    const nc = await connect({ servers: cluster.nats.url.split(','), timeout: 5000 });
    try {
      return (await (await jetstreamManager(nc)).streams.info(names.dlqStream)).state.messages;
    } finally {
      await nc.close();
    }
  };
  const alive = () =>
    [...cluster.apis, ...cluster.workers].every((p) => p.child.exitCode === null && p.child.signalCode === null);

  it('streams are replicated on all three servers', async () => {
    const nc = await connect({ servers: cluster.nats.url.split(','), timeout: 5000 });
    try {
      const jsm = await jetstreamManager(nc);
      for (const stream of [names.eventsStream, names.dlqStream]) {
        const info = await jsm.streams.info(stream);
        expect(info.config.num_replicas).toBe(3);
        expect(1 + (info.cluster?.replicas?.length ?? 0)).toBe(3);
      }
    } finally {
      await nc.close();
    }
  });

  it('both workers consume under steady load (each 30–70 % of the events)', async () => {
    const invoices = await insertInvoices(cluster, 20);
    const before = await Promise.all(cluster.workers.map(appliedBy));
    const load = new WebhookLoad(cluster, invoices);
    load.start(100);
    await sleep(15_000);
    await load.stop();
    const result = await reconcile(cluster, load, invoices);
    const after = await Promise.all(cluster.workers.map(appliedBy));
    const counts = after.map((n, i) => n - before[i]);
    const total = counts.reduce((a, b) => a + b, 0);
    const shares = counts.map((n) => Math.round((n / total) * 1000) / 10);
    report('steady load', { ...result, perWorker: counts, sharesPercent: shares });
    expect(result).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0 });
    expect(total).toBe(result.accepted);
    for (const share of shares) {
      expect(share).toBeGreaterThanOrEqual(30);
      expect(share).toBeLessThanOrEqual(70);
    }
  }, 120_000);

  it('kill -9 of the events stream leader at 200 webhooks/s: nothing lost or settled twice, settlement resumes, no process restarted', async () => {
    const invoices = await insertInvoices(cluster, 40);
    const load = new WebhookLoad(cluster, invoices);
    load.start(200);
    await sleep(6000);
    const leader = await cluster.nats.streamLeader(names.eventsStream);
    const node = cluster.nats.nodes.find((n) => n.name === leader)!;
    const killedAt = Date.now();
    await node.kill();
    await sleep(12_000);
    const sentUntil = Date.now();
    await load.stop();
    await node.start();
    const result = await reconcile(cluster, load, invoices);
    const newLeader = await cluster.nats.streamLeader(names.eventsStream);
    const figures = {
      ...result,
      killed: leader,
      newLeader,
      refused: Object.fromEntries(load.refused),
      refusedForS: load.refusedWindow && (load.refusedWindow.last - load.refusedWindow.first) / 1000,
      resumedAfterS: progress.resumedAfter(killedAt),
      longestPauseS: progress.longestPause(killedAt - 1000, sentUntil),
      rebinds: await Promise.all(cluster.workers.map(rebindsOf)),
    };
    report('stream leader killed', figures);
    expect(result).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0 });
    expect(figures.longestPauseS).toBeLessThan(10);
    expect(alive()).toBe(true);
    expect(pids()).toEqual(startPids);
  }, 180_000);

  it('PostgreSQL stopped for 20 s under load: webhooks still answered 200, nothing dead-lettered, settlement resumes and reconciles', async () => {
    const invoices = await insertInvoices(cluster, 40);
    const dlqBefore = await dlqMessages();
    const load = new WebhookLoad(cluster, invoices);
    load.start(200);
    await sleep(5000);
    await cluster.pg.stop();
    const stoppedAt = Date.now();
    const acceptedAtStop = load.accepted.size;
    const refusedAtStop = [...load.refused.values()].reduce((a, b) => a + b, 0);
    // GraphQL without its database: the GraphQL error shape with a code a client can act on
    const gql = await fetch(`${cluster.apis[1].url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await tokenFor(cluster.caller)}` },
      body: JSON.stringify({ query: '{ paymentProviders { provider } }' }),
    });
    const gqlBody = (await gql.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    const ready = await fetch(`${cluster.apis[0].url}/readyz`);
    const readyBody = await ready.json();
    await sleep(20_000);
    const acceptedDuringOutage = load.accepted.size - acceptedAtStop;
    const refusedDuringOutage = [...load.refused.values()].reduce((a, b) => a + b, 0) - refusedAtStop;
    await cluster.pg.start();
    const backAt = Date.now();
    await sleep(5000);
    await load.stop();
    // the backlog of the outage (~20 s of webhooks) drains at what this machine can settle on top of the new ones
    const result = await reconcile(cluster, load, invoices, 240_000);
    const caughtUpAfterS = (Date.now() - backAt) / 1000;
    const figures = {
      ...result,
      caughtUpAfterS,
      acceptedDuringOutage,
      refusedDuringOutage,
      refused: Object.fromEntries(load.refused),
      resumedAfterS: progress.resumedAfter(backAt),
      graphqlCode: gqlBody.errors?.[0]?.extensions?.code,
      readyz: { status: ready.status, body: readyBody },
      dlqAdded: (await dlqMessages()) - dlqBefore,
    };
    report('PostgreSQL stopped 20 s', figures);
    expect(acceptedDuringOutage).toBeGreaterThan(1000);
    expect(refusedDuringOutage).toBe(0);
    expect(figures.graphqlCode).toBe('SERVICE_UNAVAILABLE');
    expect(ready.status).toBe(200);
    expect(readyBody).toMatchObject({ status: 'degraded', checks: { postgres: 'unavailable', nats: 'ok' } });
    expect(figures.dlqAdded).toBe(0);
    expect(result).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0 });
    expect(figures.resumedAfterS).not.toBeNull();
    expect(figures.resumedAfterS!).toBeLessThan(10);
    expect(Date.now() - stoppedAt).toBeGreaterThan(20_000);
    expect(alive()).toBe(true);
    expect(pids()).toEqual(startPids);
  }, 360_000);

  it('kill -9 of one of two workers: the other carries on, nothing waits longer than the ack wait', async () => {
    const invoices = await insertInvoices(cluster, 20);
    const survivor = cluster.workers[1];
    const survivorBefore = await appliedBy(survivor);
    const load = new WebhookLoad(cluster, invoices);
    // a rate one worker alone keeps up with on a contended 2-core machine: what is measured is the failover
    load.start(30);
    await sleep(5000);
    const victim = cluster.workers[0];
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await victim.exited;
    await sleep(15_000);
    await load.stop();
    const result = await reconcile(cluster, load, invoices);
    const worst = Math.max(...(await waits(cluster, load, killedAt)));
    const figures = {
      ...result,
      survivorApplied: (await appliedBy(survivor)) - survivorBefore,
      longestPauseS: progress.longestPause(killedAt - 1000, killedAt + 15_000),
      longestWaitSinceKillMs: worst,
      ackWaitMs: ACK_WAIT_MS,
    };
    report('worker killed', figures);
    expect(result).toMatchObject({ lost: 0, duplicated: 0, mismatched: 0 });
    expect(survivor.child.exitCode).toBeNull();
    expect(figures.survivorApplied).toBeGreaterThan(result.accepted / 2);
    // what the dead worker held comes back within the ack wait of its death (plus a pull and a commit)
    expect(worst).toBeLessThan(ACK_WAIT_MS + 3000);
  }, 180_000);
});
