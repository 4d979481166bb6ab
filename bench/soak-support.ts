import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { freePort } from './processes.js';
import { MAIN, PG_BASE, SERVICE_NODE_FLAGS, sleep } from './support.js';

/** Soak-only helpers: flags, a seeded PRNG, the private nats-server, service processes logging to files, RSS. */

export interface SoakFlags {
  minutes: number;
  rate: number;
  workers: number;
  seed: number;
  invoices: number;
  drainTimeoutS: number;
  logLevel: string;
  keepLogs: boolean;
  /** Three nats-servers (R3 streams), a private PostgreSQL, two api processes; cluster faults instead of the usual chaos. */
  cluster: boolean;
}

const USAGE = `usage: npm run soak -- [--minutes N (10)] [--rate R webhooks/s (60)] [--workers K (2)] [--seed S (random)]
                        [--invoices N (300)] [--drain-timeout S (240)] [--log-level info|warn (info)] [--keep-logs] [--cluster]`;

export function parseFlags(argv: string[]): SoakFlags {
  const flags: SoakFlags = {
    minutes: 10,
    rate: 60,
    workers: 2,
    seed: Math.floor(Math.random() * 2 ** 31),
    invoices: 300,
    drainTimeoutS: 240,
    logLevel: 'info',
    keepLogs: false,
    cluster: false,
  };
  const numeric: Record<string, keyof SoakFlags> = {
    '--minutes': 'minutes',
    '--rate': 'rate',
    '--workers': 'workers',
    '--seed': 'seed',
    '--invoices': 'invoices',
    '--drain-timeout': 'drainTimeoutS',
  };
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i].split('=', 2);
    if (name === '--keep-logs' || name === '--cluster') {
      flags[name === '--cluster' ? 'cluster' : 'keepLogs'] = true;
      continue;
    }
    if (name === '--help' || name === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    const value = inline ?? argv[++i];
    if (name === '--log-level' && value) {
      flags.logLevel = value;
      continue;
    }
    const key = numeric[name];
    const parsed = Number(value);
    if (!key || value === undefined || !Number.isFinite(parsed) || parsed < 0 || (key !== 'seed' && parsed === 0)) {
      process.stderr.write(`soak: bad argument ${argv[i]}\n${USAGE}\n`);
      process.exit(2);
    }
    (flags as unknown as Record<string, number>)[key] =
      key === 'minutes' || key === 'rate' ? parsed : Math.floor(parsed);
  }
  return flags;
}

/** mulberry32: a small deterministic PRNG, so `--seed` replays the same traffic plan. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const soakDbUrl = (name: string) => `${PG_BASE}/${name}`;

/** One chaos step (or cluster fault) of the run, as printed and written to the results. */
export interface ChaosRecord {
  atS: number;
  action: string;
  target: string;
  detail: string;
  ok: boolean;
  /**
   * Cluster faults: seconds from the fault until settlement resumed (the end of the longest stretch without a settled
   * event after it); null when it did not within the step's window.
   */
  recoveryS?: number | null;
  /** Settlements slower than 1 s whose accepted attempt falls in this step's window (-2 s … +25 s). */
  slowSettlements?: { count: number; maxMs: number };
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A service process (`dist/src/main.js --role …`) whose stdout/stderr go to a log file. */
export interface ServiceProc {
  label: string;
  role: 'api' | 'worker';
  pid: number;
  url: string;
  logFile: string;
  startedAt: number;
  exited: Promise<ExitInfo>;
  alive(): boolean;
  /** SIGTERM and wait (SIGKILL after 15 s); resolves with the exit and how long the drain took. */
  terminate(): Promise<ExitInfo & { ms: number }>;
  /** kill -9 and wait for the exit. */
  kill9(): Promise<ExitInfo>;
}

const live = new Set<ChildProcess>();
export const liveChildren = (): ReadonlySet<ChildProcess> => live;

const tail = (file: string, chars = 4000) => {
  try {
    return readFileSync(file, 'utf8').slice(-chars);
  } catch {
    return '';
  }
};

/** Spawns the built service with `npm start`'s V8 flags and waits for `/readyz` 200 (60 s). */
export async function spawnService(
  label: string,
  role: 'api' | 'worker',
  env: Record<string, string>,
  logFile: string,
): Promise<ServiceProc> {
  const port = await freePort();
  const out = openSync(logFile, 'a');
  const child = spawn(process.execPath, [...SERVICE_NODE_FLAGS, MAIN, '--role', role], {
    env: { PATH: process.env.PATH ?? '', PORT: String(port), ...env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  live.add(child);
  const exited = new Promise<ExitInfo>((resolve) =>
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${label} exited during start (${logFile}):\n${tail(logFile)}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${label} not ready within 60 s (${logFile}):\n${tail(logFile)}`);
    }
    if (
      await fetch(`${url}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      )
    )
      break;
    await sleep(100);
  }
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    label,
    role,
    pid: child.pid!,
    url,
    logFile,
    startedAt: Date.now(),
    exited,
    alive,
    async terminate() {
      const started = Date.now();
      if (!alive()) return { ...(await exited), ms: 0 };
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const info = await exited;
      clearTimeout(force);
      return { ...info, ms: Date.now() - started };
    },
    async kill9() {
      if (alive()) child.kill('SIGKILL');
      return exited;
    },
  };
}

/** VmRSS of a live process in MB (0 when gone). */
export function rssMb(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round((Number(match[1]) / 1024) * 10) / 10 : 0;
  } catch {
    return 0;
  }
}

/** V8 heap used (MB) from the service's `/metrics` (prom-client default metrics); NaN when it does not answer in 3 s. */
export async function heapUsedMb(url: string): Promise<number> {
  try {
    const text = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(3000) }).then((response) =>
      response.text(),
    );
    const match = /^nodejs_heap_size_used_bytes (\S+)$/m.exec(text);
    return match ? Math.round((Number(match[1]) / 1048576) * 10) / 10 : NaN;
  } catch {
    return NaN;
  }
}
