import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, connect, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { testEnv } from '../helpers/env.js';
import { freePort, MAIN, runToExit } from '../helpers/process.js';

const ROOT = join(__dirname, '..', '..');

/** A loopback port that forwards to the shared NATS, opened only when the test says so. */
function forwardTo(port: number, targetPort: number): Promise<Server> {
  const server = createServer((socket) => {
    const upstream = connect(targetPort, '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

/** The direct children of a process (Linux /proc). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Polls /readyz until 200 (true) or the process ends or a minute passes (false). */
async function waitReady(port: number, process: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && process.exitCode === null) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('start-up waiting (STARTUP_TIMEOUT_MS)', () => {
  it('fails after the timeout with one line naming PostgreSQL and NATS when neither answers, exit code 1', async () => {
    const [pgPort, natsPort] = [await freePort(), await freePort()];
    const started = Date.now();
    const result = await runToExit(
      testEnv({
        DATABASE_URL: `postgres://postgres@127.0.0.1:${pgPort}/nowhere`,
        NATS_URL: `nats://127.0.0.1:${natsPort}`,
        STARTUP_TIMEOUT_MS: '1500',
        LOG_LEVEL: 'error',
      }),
    );
    const elapsed = Date.now() - started;
    expect(result.code).toBe(1);
    const lines = result.output.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`PostgreSQL at 127.0.0.1:${pgPort} is unreachable`);
    expect(lines[0]).toContain(`NATS at 127.0.0.1:${natsPort} is unreachable`);
    expect(lines[0]).toContain('STARTUP_TIMEOUT_MS');
    expect(elapsed).toBeGreaterThanOrEqual(1400);
    expect(elapsed).toBeLessThan(10_000);
  });

  it('names only what is unreachable', async () => {
    const natsPort = await freePort();
    const result = await runToExit(
      testEnv({ NATS_URL: `nats://127.0.0.1:${natsPort}`, STARTUP_TIMEOUT_MS: '800', LOG_LEVEL: 'error' }),
    );
    expect(result.code).toBe(1);
    expect(result.output.trim().split('\n')).toHaveLength(1);
    expect(result.output).toContain(`NATS at 127.0.0.1:${natsPort} is unreachable`);
    expect(result.output).not.toContain('PostgreSQL');
  });

  it('waits for NATS that comes up after the service, then becomes ready', async () => {
    const [port, natsPort] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [MAIN, '--role', 'worker'], {
      env: { PATH: process.env.PATH, ...testEnv({ PORT: String(port), NATS_URL: `nats://127.0.0.1:${natsPort}` }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    let nats: Promise<Server> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      // NATS "comes up" only once the service has said it is waiting for it.
      if (!nats && output.includes(`waiting for NATS at 127.0.0.1:${natsPort}`)) nats = forwardTo(natsPort, 4222);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      expect(await waitReady(port, child), output).toBe(true);
      expect(output).toContain('NATS at 127.0.0.1:');
      expect(output).toContain('is reachable');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      (await nats)?.close();
    }
  });
});

describe('signals through npm start', () => {
  it('SIGTERM to the `npm start` process stops the service: its node child exits 0 within 10 s', async () => {
    const port = await freePort();
    const npm = spawn('npm', ['start', '--silent', '--', '--role', 'worker'], {
      cwd: ROOT,
      detached: true, // its own process group, so that `finally` can clean up whatever a failure leaves behind
      env: { ...process.env, ...testEnv({ PORT: String(port) }), npm_config_update_notifier: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    npm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    npm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => npm.on('exit', (code) => resolve(code)));
    try {
      expect(await waitReady(port, npm), output).toBe(true);
      // `start` execs node, so node is npm's own child (no shell in between that would swallow the signal).
      const [child] = childrenOf(npm.pid!);
      expect(readFileSync(`/proc/${child}/cmdline`, 'utf8')).toContain('dist/src/main.js');

      const started = Date.now();
      npm.kill('SIGTERM');
      const code = await exited; // npm exits with its child's exit code
      while (alive(child) && Date.now() - started < 10_000) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(alive(child)).toBe(false);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(code).toBe(0);
      expect(output).toContain('workestra-payments stopped');
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // the group is gone: nothing left behind
      }
    }
  });
});
