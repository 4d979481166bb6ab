import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { freePort } from '../test/helpers/process.js';
import { MAIN, PROFILE_DIR, SERVICE_NODE_FLAGS, sleep, type Bench } from './support.js';

/** Child processes of the bench: the service (and the baseline server), readiness, CPU time and peak RSS. */

export { freePort };

export interface Child {
  url: string;
  pid: number;
  output(): string;
  /** CPU time (user + system) the process has used so far, in ms. */
  cpuMs(): number;
  /** Records VmHWM under `label`, SIGTERMs (SIGKILL after 10 s) and waits for the exit. */
  stop(): Promise<void>;
}

/** VmHWM (peak resident set) of a live process, in MB. */
export function peakRssMb(pid: number): number {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return 0; // already gone
  }
  const match = /VmHWM:\s+(\d+) kB/.exec(status);
  return match ? Math.round(Number(match[1]) / 1024) : 0;
}

/** utime + stime of a live process from /proc/<pid>/stat, in ms (clock ticks are 100 Hz on Linux). */
export function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Spawns a node script and waits until `GET <url>/readyz` answers 200. */
export async function spawnChild(
  bench: Bench,
  label: string,
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<Child> {
  const port = await freePort();
  // The service runs with the same V8 flags as `npm start` (package.json) and the Dockerfile.
  const nodeArgs: string[] = script === MAIN ? [...SERVICE_NODE_FLAGS] : [];
  if (bench.profile && script === MAIN) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${label}.cpuprofile`);
  }
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', LOG_LEVEL: 'warn', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  bench.children.add(child);
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => bench.children.delete(child));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited during start:\n${output}`);
    if (Date.now() > deadline) throw new Error(`${label} not ready within 60 s:\n${output}`);
    const ok = await fetch(`${url}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    await sleep(100);
  }
  return {
    url,
    pid: child.pid!,
    output: () => output,
    cpuMs: () => cpuMs(child.pid!),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      bench.rss[label] = peakRssMb(child.pid!);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Reads a Prometheus text exposition into `name{labels}` → value (the service's /metrics). */
export async function scrape(url: string): Promise<Map<string, number>> {
  const text = await fetch(`${url}/metrics`).then(
    (response) => response.text(),
    () => '',
  );
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (match) values.set(match[1], Number(match[2]));
  }
  return values;
}
