import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Client } from 'pg';
import type { TestProject } from 'vitest/node';

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
    const client = new Client({ connectionString: ADMIN_URL });
    await client.connect();
    await client.query(`drop database if exists "${database}" with (force)`);
    await client.end();
  };
}
