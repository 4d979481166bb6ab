import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import type { SettlementProgress } from '../test/helpers/settlement-progress.js';
import { startNatsCluster, type NatsCluster } from '../test/helpers/nats-cluster.js';
import { startPrivatePostgres, type PrivatePostgres } from '../test/helpers/private-postgres.js';
import type { ChaosRecord } from './soak-support.js';
import { sleep } from './support.js';

/**
 * `npm run soak -- --cluster`: the soak's infrastructure and faults on a cluster, from the cluster tier's helpers
 * (test/helpers/nats-cluster.ts, test/helpers/private-postgres.ts; settlement progress from test/cluster): three
 * nats-servers in one JetStream cluster and a private PostgreSQL 15 on a spare port, all removed at the end.
 */

export const CLUSTER_APIS = 2;
const LEADER_DOWN_MS = 10_000;
const PG_DOWN_MS = 20_000;
/** How long after a fault (after PostgreSQL is back, for the outage) settlement is watched for its recovery. */
const WATCH_MS = 25_000;
/** A pause of settlement shorter than this is ordinary; a fault without one did not stop settlement. */
const PAUSE_MS = 1000;

export interface SoakCluster {
  nats: NatsCluster;
  pg: PrivatePostgres;
  dbUrl: string;
  /** Writes the servers' log into the log folder, kills them and deletes their stores and the data directory. */
  dispose(): Promise<void>;
}

/** Three nats-servers (one JetStream cluster) and a private PostgreSQL holding database `dbName`. */
export async function startSoakCluster(dbName: string, logDir: string): Promise<SoakCluster> {
  const nats = await startNatsCluster(3);
  let pg: PrivatePostgres | undefined;
  const dispose = async () => {
    writeFileSync(join(logDir, 'nats-cluster.log'), nats.output());
    await nats.dispose();
    await pg?.dispose();
  };
  try {
    pg = await startPrivatePostgres();
    const admin = new Client({ connectionString: pg.url() });
    await admin.connect();
    await admin.query(`create database "${dbName}"`);
    await admin.end();
  } catch (error) {
    await dispose().catch(() => undefined);
    throw error;
  }
  return { nats, pg, dbUrl: pg.url(dbName), dispose };
}

export type FaultKind = 'leader' | 'postgres' | 'worker';

export interface FaultContext {
  cluster: SoakCluster;
  progress: SettlementProgress;
  eventsStream: string;
  /** Seconds since the traffic started. */
  sinceS(): number;
  /** Non-200 webhook answers so far, by status (`conn` for connection errors). */
  failures(): Record<string, number>;
  /** Messages in the DLQ stream (null when JetStream does not answer). */
  dlq(): Promise<number | null>;
  /** kill -9 of a worker, then a new one in its place: says which and how long the new one took to be ready. */
  restartWorker(): Promise<string>;
}

/**
 * The faults, in turn (stream leader, PostgreSQL, worker), from 15 s on, spaced so that about nine fit in the run
 * (35–90 s apart); a fault starts only when the previous one's recovery has been measured, and only if it and its
 * watch fit before the end of the traffic.
 */
export function faultSchedule(durationMs: number): Array<{ at: number; kind: FaultKind }> {
  const kinds: FaultKind[] = ['leader', 'postgres', 'worker'];
  const every = Math.min(90_000, Math.max(35_000, Math.round(durationMs / 9)));
  const schedule: Array<{ at: number; kind: FaultKind }> = [];
  let end = 0;
  for (let at = 15_000, n = 0; ; at += every, n++) {
    const kind = kinds[n % kinds.length];
    const start = Math.max(at, end);
    end = start + (kind === 'postgres' ? PG_DOWN_MS : 0) + WATCH_MS;
    if (end > durationMs) break;
    schedule.push({ at, kind });
  }
  return schedule;
}

const delta = (before: Record<string, number>, after: Record<string, number>) =>
  Object.entries(after)
    .map(([key, n]) => [key, n - (before[key] ?? 0)] as const)
    .filter(([, n]) => n > 0)
    .map(([key, n]) => `${key} ×${n}`)
    .join(', ') || 'none';

/** Seconds from `from` until settlement resumed: the end of the longest pause after it, or its first settlement. */
function recovery(progress: SettlementProgress, from: number, to: number) {
  const pause = progress.pauseAfter(from, to);
  const recoveryS =
    pause.longestS * 1000 >= PAUSE_MS ? pause.endedAfterS : (progress.resumedAfter(from) ?? pause.endedAfterS);
  return { recoveryS, longestPauseS: pause.longestS };
}

const s = (value: number | null) => (value === null ? 'never' : `${value.toFixed(1)} s`);

/** Injects one fault, waits out its watch window and says what it cost. */
export async function runFault(kind: FaultKind, ctx: FaultContext): Promise<ChaosRecord> {
  const atS = ctx.sinceS();
  const failuresBefore = { ...ctx.failures() };
  const from = Date.now();
  if (kind === 'leader') {
    const leader = await ctx.cluster.nats.streamLeader(ctx.eventsStream);
    const node = ctx.cluster.nats.nodes.find((candidate) => candidate.name === leader);
    if (!node) throw new Error(`the events stream's leader ${leader} is none of the cluster's servers`);
    await node.kill();
    await sleep(LEADER_DOWN_MS);
    const newLeader = await ctx.cluster.nats.streamLeader(ctx.eventsStream).catch(() => 'none');
    await node.start();
    const restartedS = (Date.now() - from) / 1000;
    await sleep(from + WATCH_MS - Date.now());
    const { recoveryS, longestPauseS } = recovery(ctx.progress, from, Date.now());
    return {
      atS,
      action: 'leader kill -9',
      target: `nats ${leader}`,
      detail: `events stream leader ${leader} killed; new leader ${newLeader}; ${leader} started again after ${restartedS.toFixed(1)} s; webhooks non-200: ${delta(failuresBefore, ctx.failures())}; longest settlement pause ${longestPauseS.toFixed(1)} s; settlement resumed ${s(recoveryS)} after the kill`,
      ok: recoveryS !== null,
      recoveryS,
    };
  }
  if (kind === 'postgres') {
    const dlqBefore = await ctx.dlq();
    await ctx.cluster.pg.stop();
    await sleep(from + PG_DOWN_MS - Date.now());
    await ctx.cluster.pg.start();
    const back = Date.now();
    await sleep(back + WATCH_MS - Date.now());
    const { recoveryS, longestPauseS } = recovery(ctx.progress, from, Date.now());
    const afterBackS = ctx.progress.resumedAfter(back);
    const dlqAfter = await ctx.dlq();
    const dlqAdded = dlqBefore === null || dlqAfter === null ? null : dlqAfter - dlqBefore;
    return {
      atS,
      action: 'PostgreSQL stop',
      target: 'private PostgreSQL',
      detail: `down ${((back - from) / 1000).toFixed(1)} s (pg_ctl stop -m fast, then start); webhooks non-200: ${delta(failuresBefore, ctx.failures())}; dead-lettered ${dlqAdded ?? '?'}; longest settlement pause ${longestPauseS.toFixed(1)} s; settlement resumed ${s(recoveryS)} after the stop, ${s(afterBackS)} after PostgreSQL was back`,
      ok: recoveryS !== null && dlqAdded === 0,
      recoveryS,
    };
  }
  const restarted = await ctx.restartWorker();
  await sleep(from + WATCH_MS - Date.now());
  const { recoveryS, longestPauseS } = recovery(ctx.progress, from, Date.now());
  return {
    atS,
    action: 'worker kill -9',
    target: restarted.split(' ')[0],
    detail: `${restarted}; longest settlement pause ${longestPauseS.toFixed(1)} s; settlement resumed ${s(recoveryS)} after the kill`,
    ok: recoveryS !== null,
    recoveryS,
  };
}
