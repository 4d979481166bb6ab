import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger.js';
import { startService, type RunningService } from '../../src/service.js';
import { testConfig, uniquePrefix } from './env.js';

/** Everything the service logged, as raw JSON lines (tests scan them for secrets). */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void) {
    this.lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    callback();
  }
  get text() {
    return this.lines.join('\n');
  }
}

export interface TestService extends RunningService {
  logs: LogCapture;
  /** SQL statements seen since the last reset. */
  queries: string[];
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GqlResult<T>>;
}

export interface GqlResult<T> {
  status: number;
  data: T | null;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

/** Starts the real service in-process on a free port against the run's database and its own NATS prefix. */
export async function startTestService(env: Record<string, string> = {}, argv: string[] = []): Promise<TestService> {
  const logs = new LogCapture();
  const queries: string[] = [];
  const config = testConfig({ NATS_SUBJECT_PREFIX: uniquePrefix(), ...env }, argv);
  const running = await startService(config, createLogger('debug', logs), { onQuery: (sql) => queries.push(sql) });
  return {
    ...running,
    logs,
    queries,
    async gql<T>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GqlResult<T>> {
      const response = await fetch(`${running.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as { data?: T | null; errors?: GqlResult<T>['errors'] };
      return { status: response.status, data: body.data ?? null, errors: body.errors };
    },
  };
}
