import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import type { TestProject } from 'vitest/node';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** Removes the streams this run created (every prefix of the run starts with its id). */
async function deleteStreams(namePrefix: string) {
  const nc = await connect({ servers: 'nats://127.0.0.1:4222' }).catch(() => null);
  if (!nc) return;
  try {
    const jsm = await jetstreamManager(nc);
    for await (const name of jsm.streams.names())
      if (name.startsWith(namePrefix)) await jsm.streams.delete(name).catch(() => undefined);
  } finally {
    await nc.close();
  }
}

const ADMIN_URL = process.env.TEST_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    natsPrefix: string;
    runId: string;
  }
}

/** One database and one NATS subject prefix per `npm test` run, so concurrent runs never collide. */
export default async function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
  const database = `wp_test_${runId}`;
  const admin = new Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database "${database}"`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  project.provide('databaseUrl', url.toString());
  project.provide('natsPrefix', `wpt_${runId}`);
  project.provide('runId', runId);

  // Tests that run the real process need dist/ current; the build is skipped when nothing changed.
  execFileSync(process.execPath, [join(__dirname, '..', '..', 'scripts', 'ensure-build.cjs')], { stdio: 'inherit' });

  return async () => {
    await deleteStreams(`WPT_${runId.toUpperCase()}`);
    const client = new Client({ connectionString: ADMIN_URL });
    await client.connect();
    await client.query(`drop database if exists "${database}" with (force)`);
    await client.end();
  };
}
