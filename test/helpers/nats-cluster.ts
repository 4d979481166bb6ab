import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { spawnNatsServer } from './private-nats.js';
import { freePort } from './process.js';

/** One server of a private JetStream cluster on loopback. */
export interface ClusterNode {
  name: string;
  url: string;
  /** Its process id, or null while it is down. */
  pid(): number | null;
  /** kill -9 (no clean shutdown: what a crashed machine does). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and store. */
  start(): Promise<void>;
}

/** Three (or `size`) nats-servers with JetStream, routes between all of them, a store each, one cluster name. */
export interface NatsCluster {
  nodes: ClusterNode[];
  /** `NATS_URL` for the service: every server, comma-separated. */
  url: string;
  /** Server name of the current leader of a stream. */
  streamLeader(stream: string): Promise<string>;
  output(): string;
  /** kill -9 every server and delete the stores. */
  dispose(): Promise<void>;
}

export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({ client: await freePort(), route: await freePort() })),
  );
  const stores = ports.map(() => mkdtempSync(join(tmpdir(), 'wp-natsc-')));
  const children: Array<ChildProcess | undefined> = ports.map(() => undefined);
  let log = '';
  const routes = ports.map((p) => `nats://127.0.0.1:${p.route}`).join(',');

  async function start(i: number): Promise<void> {
    if (children[i]) return;
    const name = `n${i}`;
    const args = ['-a', '127.0.0.1', '-p', String(ports[i].client), '-n', name, '-js', '-sd', stores[i]];
    args.push('--cluster_name', 'wp-test', '--cluster', `nats://127.0.0.1:${ports[i].route}`, '--routes', routes);
    children[i] = await spawnNatsServer(
      args,
      name,
      (text) => (log += `[${name}] ${text}`),
      (proc) => {
        if (children[i] === proc) children[i] = undefined;
      },
    );
  }

  async function kill(i: number): Promise<void> {
    const proc = children[i];
    if (!proc) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  }

  const url = ports.map((p) => `nats://127.0.0.1:${p.client}`).join(',');
  await Promise.all(ports.map((_, i) => start(i)));
  // the servers are up; JetStream answers once the meta group has elected a leader
  const nc = await connect({ servers: url.split(','), timeout: 5000 });
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await (await jetstreamManager(nc)).getAccountInfo();
        break;
      } catch (error) {
        if (Date.now() > deadline)
          throw new Error(`JetStream cluster not ready within 30 s:\n${log}`, { cause: error });
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  } finally {
    await nc.close();
  }

  return {
    url,
    nodes: ports.map((p, i) => ({
      name: `n${i}`,
      url: `nats://127.0.0.1:${p.client}`,
      pid: () => children[i]?.pid ?? null,
      kill: () => kill(i),
      start: () => start(i),
    })),
    async streamLeader(stream) {
      const nc = await connect({ servers: url.split(','), timeout: 5000 });
      try {
        const info = await (await jetstreamManager(nc)).streams.info(stream);
        if (!info.cluster?.leader) throw new Error(`stream ${stream} has no leader`);
        return info.cluster.leader;
      } finally {
        await nc.close();
      }
    },
    output: () => log,
    async dispose() {
      await Promise.all(ports.map((_, i) => kill(i)));
      for (const dir of stores) rmSync(dir, { recursive: true, force: true });
    },
  };
}
