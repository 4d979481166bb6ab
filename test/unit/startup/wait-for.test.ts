import { describe, expect, it } from 'vitest';
import { describeServers } from '../../../src/startup/dependencies.js';
import { StartupTimeoutError, waitFor, waitForAll } from '../../../src/startup/wait-for.js';

const fast = { initialDelayMs: 10, maxDelayMs: 40 };

describe('waitFor (start-up waiting with backoff)', () => {
  it('retries a failing probe with backoff until it answers', async () => {
    let calls = 0;
    const value = await waitFor(
      'thing',
      async () => {
        if (++calls < 4) throw new Error('connect ECONNREFUSED');
        return 'up';
      },
      { deadline: Date.now() + 5000, ...fast },
    );
    expect(value).toBe('up');
    expect(calls).toBe(4);
  });

  it('gives up at the deadline with one line naming the dependency and the last error', async () => {
    const started = Date.now();
    const error = await waitFor(
      'PostgreSQL at db:5432',
      () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.1:5432\nstack…')),
      {
        deadline: started + 300,
        ...fast,
      },
    ).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StartupTimeoutError);
    expect((error as Error).message).toBe('PostgreSQL at db:5432 is unreachable (connect ECONNREFUSED 10.0.0.1:5432)');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it('does not wait past the deadline for a probe that hangs, and disposes of its late result', async () => {
    const disposed: unknown[] = [];
    const started = Date.now();
    const error = await waitFor(
      'NATS at broker:4222',
      () => new Promise((resolve) => setTimeout(() => resolve('late connection'), 500)),
      { deadline: started + 150, dispose: (late) => disposed.push(late), ...fast },
    ).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe('NATS at broker:4222 is unreachable (no answer)');
    expect(Date.now() - started).toBeLessThan(400);
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(disposed).toEqual(['late connection']);
  });

  it('names every dependency that stayed unreachable in one line', async () => {
    const deadline = Date.now() + 100;
    const error = await waitForAll(
      [
        waitFor('PostgreSQL at a:5432', () => Promise.reject(new Error('refused')), { deadline, ...fast }),
        waitFor('NATS at b:4222', () => Promise.reject(new Error('refused')), { deadline, ...fast }),
        waitFor('fine', async () => 1, { deadline, ...fast }),
      ],
      100,
    ).catch((caught: unknown) => caught);
    expect((error as Error).message).toBe(
      'not started: PostgreSQL at a:5432 is unreachable (refused); NATS at b:4222 is unreachable (refused) after waiting 0.1 s (STARTUP_TIMEOUT_MS)',
    );
  });

  it('describes servers by host and port only (never credentials)', () => {
    expect(describeServers('postgres://user:s3cret@db.internal/payments', 5432)).toBe('db.internal:5432');
    expect(describeServers('nats://a:4222,nats://b:4223, nats://c', 4222)).toBe('a:4222, b:4223, c:4222');
  });
});
