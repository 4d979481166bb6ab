import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ConfigError, DEV_ENCRYPTION_KEYS, DEV_JWT_SECRET, loadConfig } from '../../../src/config.js';

/** What can be checked of the Docker set-up without a Docker engine (none runs on the project's machines). */
const ROOT = join(__dirname, '..', '..', '..');

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; start_period?: string };
  restart?: string;
  profiles?: string[];
  ports?: string[];
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const services = compose.services;
const inProfile = (profile: string | null) =>
  Object.keys(services).filter((name) =>
    profile === null ? !services[name].profiles : (services[name].profiles ?? []).includes(profile),
  );
const role = (service: Service) => {
  const args = service.command ?? [];
  return args.includes('--role') ? args[args.indexOf('--role') + 1] : 'all';
};

describe('docker-compose.yml', () => {
  it('`docker compose up` starts PostgreSQL, NATS and the service (no profile)', () => {
    expect(inProfile(null).sort()).toEqual(['nats', 'payments', 'postgres']);
    expect(services.nats.command).toEqual(expect.arrayContaining(['-js', '-m', '8222']));
    expect(services.payments.ports).toEqual(['4001:4001']);
  });

  it('gives every service a healthcheck and a restart policy', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.restart, name).toBe('unless-stopped');
      expect(service.healthcheck?.test?.[0], name).toMatch(/^CMD/);
    }
    expect(services.postgres.healthcheck!.test).toContain('pg_isready');
    expect(services.nats.healthcheck!.test.join(' ')).toContain('http://127.0.0.1:8222/healthz');
    expect(services.payments.healthcheck!.test.join(' ')).toContain('/readyz');
  });

  it('starts the service only once PostgreSQL and NATS are healthy', () => {
    expect(services.payments.depends_on).toEqual({
      postgres: { condition: 'service_healthy' },
      nats: { condition: 'service_healthy' },
    });
  });

  it("sets explicit dev-only secrets that the service accepts under the image's NODE_ENV=production", () => {
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    expect(text).toMatch(/DEV ONLY/);
    const ours = Object.keys(services).filter((name) => services[name].build);
    expect(ours.sort()).toEqual(['api-1', 'api-2', 'payments', 'worker-1', 'worker-2']);
    for (const name of ours) {
      const env = services[name].environment!;
      expect(env.AUTH_JWT_SECRET, name).toBeTruthy();
      expect(env.AUTH_JWT_SECRET).not.toBe(DEV_JWT_SECRET);
      expect(env.PAYMENTS_ENCRYPTION_KEYS).not.toBe(DEV_ENCRYPTION_KEYS);
    }
    // What the container does first: load the configuration (the Dockerfile sets NODE_ENV=production).
    const config = loadConfig({ ...services.payments.environment, NODE_ENV: 'production' }, []);
    expect(config).toMatchObject({ natsUrl: 'nats://nats:4222', startupTimeoutMs: 60_000, role: 'all' });
  });

  it('has a `cluster` profile: three clustered JetStream servers, two api and two worker processes', () => {
    const cluster = inProfile('cluster');
    expect(cluster.sort()).toEqual(['api-1', 'api-2', 'nats-1', 'nats-2', 'nats-3', 'worker-1', 'worker-2']);
    const natsNames = ['nats-1', 'nats-2', 'nats-3'];
    for (const name of natsNames) {
      const args = services[name].command!;
      const flag = (option: string) => args[args.indexOf(option) + 1];
      expect(args).toContain('-js');
      expect(flag('--server_name')).toBe(name);
      expect(flag('--cluster_name')).toBe('payments');
      expect(flag('--routes').split(',').sort()).toEqual(natsNames.map((server) => `nats://${server}:6222`));
      expect(services[name].healthcheck!.test.join(' ')).toContain('8222/healthz');
    }
    expect(cluster.filter((name) => name.startsWith('api')).map((name) => role(services[name]))).toEqual([
      'api',
      'api',
    ]);
    expect(cluster.filter((name) => name.startsWith('worker')).map((name) => role(services[name]))).toEqual([
      'worker',
      'worker',
    ]);
    for (const name of cluster.filter((service) => !service.startsWith('nats'))) {
      const env = services[name].environment!;
      expect(env.NATS_STREAM_REPLICAS, name).toBe('3');
      expect(env.NATS_URL.split(',')).toEqual(natsNames.map((server) => `nats://${server}:4222`));
      expect(env.DATABASE_URL).toBe(services.payments.environment!.DATABASE_URL);
      expect(services[name].depends_on).toEqual(
        Object.fromEntries(['postgres', ...natsNames].map((dep) => [dep, { condition: 'service_healthy' }])),
      );
    }
    // The two api processes publish different host ports; workers publish none.
    expect(new Set([...services['api-1'].ports!, ...services['api-2'].ports!]).size).toBe(2);
    expect(services['worker-1'].ports).toBeUndefined();
  });

  it('gives each NATS server its own volume', () => {
    const volumes = ['nats', 'nats-1', 'nats-2', 'nats-3'].map(
      (name) => (services[name] as { volumes: string[] }).volumes[0].split(':')[0],
    );
    expect(new Set(volumes).size).toBe(4);
    for (const volume of volumes) expect(compose.volumes).toHaveProperty(volume);
  });

  it('each URL of the cluster NATS_URL is one the configuration accepts on its own', () => {
    for (const url of services['api-1'].environment!.NATS_URL.split(',')) {
      expect(() => loadConfig({ NATS_URL: url }, [])).not.toThrow(ConfigError);
    }
  });
});

describe('the production image (Dockerfile)', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

  it('builds on Node 24 LTS and runs node directly (no npm in front of SIGTERM)', () => {
    expect(dockerfile.match(/^FROM .*$/gm)).toEqual([
      'FROM node:24-bookworm-slim AS build',
      'FROM node:24-bookworm-slim',
    ]);
    expect(dockerfile).toMatch(/^CMD \["node", .*"dist\/src\/main.js"\]$/m);
    expect(readFileSync(join(ROOT, '.nvmrc'), 'utf8').trim()).toBe('24');
  });

  it('runs node with the V8 flags of `npm start`, docker compose and the bench, the young generation sized explicitly', () => {
    const flagsOf = (args: string[]) => args.slice(args.indexOf('node') + 1, args.indexOf('dist/src/main.js'));
    const cmd = JSON.parse(/^CMD (\[.*\])$/m.exec(dockerfile)![1]) as string[];
    const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: { start: string } })
      .scripts.start;
    const flags = flagsOf(cmd);
    // Node 24 with only --max-old-space-size=160: a mark-compact every ~70 ms under load, 3× the CPU per webhook
    expect(flags).toEqual(['--max-old-space-size=160', '--max-semi-space-size=8']);
    expect(flagsOf(start.split(' '))).toEqual(flags);
    for (const name of Object.keys(services).filter((service) => services[service].command?.[0] === 'node'))
      expect(flagsOf(services[name].command!), name).toEqual(flags);
    expect(readFileSync(join(ROOT, 'bench', 'support.ts'), 'utf8')).toContain(
      `SERVICE_NODE_FLAGS = [${flags.map((flag) => `'${flag}'`).join(', ')}]`,
    );
  });

  it('compiles src/ alone: no test code, fakes, demo or dev scripts reach the image', () => {
    expect(dockerfile).not.toMatch(/COPY (test|scripts|bench)/);
    expect(dockerfile).toContain('tsc -p tsconfig.prod.json');
    expect(dockerfile).toContain('COPY --from=build /app/dist/src ./dist/src');
    const prod = JSON.parse(readFileSync(join(ROOT, 'tsconfig.prod.json'), 'utf8')) as { include: string[] };
    expect(prod.include).toEqual(['src/**/*.ts']);
    // …which only works while nothing under src/ imports from outside it.
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((entry) =>
        statSync(join(dir, entry)).isDirectory() ? files(join(dir, entry)) : [join(dir, entry)],
      );
    const outside = files(join(ROOT, 'src')).filter((file) =>
      /from '(\.\.\/)+(test|scripts|bench)\//.test(readFileSync(file, 'utf8')),
    );
    expect(outside).toEqual([]);
  });
});
