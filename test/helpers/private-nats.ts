import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './process.js';

const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';

/** A nats-server (with JetStream) of a test's own, so fault tests never touch the machine's shared one. */
export interface PrivateNats {
  url: string;
  port: number;
  storeDir: string;
  /** Server log so far (stdout and stderr), for failure messages. */
  output(): string;
  /** Stops the server (SIGTERM, SIGKILL after 5 s); the store survives for `start()` / `restart()`. */
  stop(): Promise<void>;
  /** Starts it again on the same port and store after `stop()`. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and deletes the store. */
  dispose(): Promise<void>;
}

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/**
 * Spawns `nats-server` with `args` and resolves with its process once it reports ready (JetStream is up before that
 * line is printed); rejects if it exits first or is not ready within 15 s. The process is killed when the test
 * process exits.
 */
export async function spawnNatsServer(
  args: string[],
  label: string,
  onOutput: (text: string) => void,
  onExit: (proc: ChildProcess) => void,
): Promise<ChildProcess> {
  const proc = spawn(NATS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(proc);
  let startLog = '';
  await new Promise<void>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`${label} not ready within 15 s:\n${startLog}`)), 15_000);
    const onData = (chunk: Buffer) => {
      onOutput(chunk.toString());
      startLog += chunk.toString();
      if (startLog.includes('Server is ready')) {
        clearTimeout(deadline);
        resolve();
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      running.delete(proc);
      onExit(proc);
      clearTimeout(deadline);
      reject(new Error(`${label} exited with ${code}:\n${startLog}`));
    });
  });
  return proc;
}

/** Starts `nats-server -js` on a free loopback port and resolves once it reports ready. */
export async function startPrivateNats(): Promise<PrivateNats> {
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'wp-nats-'));
  let child: ChildProcess | undefined;
  let log = '';

  async function start(): Promise<void> {
    if (child) return;
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir];
    child = await spawnNatsServer(
      args,
      `nats-server on ${port}`,
      (text) => (log += text),
      (proc) => {
        if (child === proc) child = undefined;
      },
    );
  }

  async function stop(): Promise<void> {
    const proc = child;
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGTERM');
    const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(force);
  }

  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    output: () => log,
    stop,
    start,
    restart: async () => {
      await stop();
      await start();
    },
    dispose: async () => {
      await stop();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
