import { parseKeyRing, type KeyRing } from './crypto/key-ring.js';
import { PROVIDERS, type Provider } from './vocabulary/index.js';

/** Typed configuration, read from the environment once at start. Each bad variable fails with one line naming it. */

export type Role = 'api' | 'worker' | 'all';

export interface Config {
  nodeEnv: string;
  role: Role;
  port: number;
  databaseUrl: string;
  /** NATS_URL: one server or several, comma-separated (a cluster). */
  natsUrl: string;
  /** NATS_STREAM_REPLICAS: replicas of both streams (3 on a cluster), applied in place at start. */
  natsStreamReplicas: number;
  natsSubjectPrefix: string;
  publicBaseUrl: string;
  authJwtSecret: string;
  encryptionKeys: string;
  /** `<PROVIDER>_API_URL` of each provider (`<NAME>_API_URL`, NAME the provider upper-cased): its API's base URL, null for its own. */
  providerApiUrls: Record<Provider, string | null>;
  trustProxy: boolean;
  settlementMaxDeliver: number;
  settlementBackoffMs: number[];
  settlementConcurrency: number;
  settlementAckWaitMs: number;
  /** SETTLEMENT_STALL_MS: re-bind the consumer when messages are pending and none was delivered for this long. */
  settlementStallMs: number;
  reconcileIntervalMs: number;
  reconcilePendingAfterMs: number;
  /** DISCONNECT_GRACE_HOURS (a decimal): how long a disconnected account's keys still settle its webhooks. */
  disconnectGraceMs: number;
  /** How often the worker ends grace windows that are over (GRACE_SWEEP_INTERVAL_MS). */
  graceSweepIntervalMs: number;
  dlqRetryIntervalMs: number;
  dlqMaxAutoRetries: number;
  /** AUDIT_INTERVAL_MS: how often the worker audits the ledger against the providers (one run across workers). */
  auditIntervalMs: number;
  /** AUDIT_LOOKBACK_HOURS (a decimal): the range each scheduled audit covers, ending now. */
  auditLookbackMs: number;
  logLevel: string;
  /** OTEL_EXPORTER_OTLP_ENDPOINT: spans are exported over OTLP only when it is set (null: nothing exported). */
  otlpEndpoint: string | null;
  /** STARTUP_TIMEOUT_MS: how long start waits (with backoff) for PostgreSQL and NATS before it gives up. */
  startupTimeoutMs: number;
  /** WEBHOOK_RATE_PER_HOST: token bucket per provider + host on both webhook routes (429 beyond it). */
  webhookRate: WebhookRate;
  /** EVENTS_STREAM_MAX_BYTES: byte cap of the events stream (discard new: a full stream answers 503). */
  eventsStreamMaxBytes: number;
  /** Abuse limits of the GraphQL endpoint (enforced in src/graphql-limits). */
  graphql: GraphQLLimits;
}

/** Webhooks accepted per provider + host: `perSecond` on average, up to `burst` at once. */
export interface WebhookRate {
  perSecond: number;
  burst: number;
}

/** `WEBHOOK_RATE_PER_HOST`: `<per second>` (burst 5× that) or `<per second>,<burst>`; default 100,500. */
function webhookRateVar(env: Env): WebhookRate {
  const raw = env.WEBHOOK_RATE_PER_HOST?.trim();
  if (!raw) return { perSecond: 100, burst: 500 };
  const match = /^(\d+)(?:\s*,\s*(\d+))?$/.exec(raw);
  const perSecond = match ? Number(match[1]) : NaN;
  const burst = match?.[2] !== undefined ? Number(match[2]) : perSecond * 5;
  if (!match || perSecond < 1 || perSecond > 1_000_000 || burst < perSecond || burst > 10_000_000) {
    throw new ConfigError(
      'WEBHOOK_RATE_PER_HOST',
      `must be "<per second>" or "<per second>,<burst>" with 1 ≤ per second ≤ burst, got "${env.WEBHOOK_RATE_PER_HOST}"`,
    );
  }
  return { perSecond, burst };
}

/** Limits every GraphQL request must stay within; see README "GraphQL limits". */
export interface GraphQLLimits {
  /** GRAPHQL_MAX_DEPTH: deepest field nesting of an operation (introspection fields excluded). */
  maxDepth: number;
  /** GRAPHQL_MAX_COST: estimated cost of one operation (objects it can return, plus SQL/provider round trips). */
  maxCost: number;
  /** GRAPHQL_MAX_ALIASES: aliased fields per operation, fragments expanded. */
  maxAliases: number;
  /** GRAPHQL_MAX_MUTATIONS: root mutation fields per operation, aliases included, fragments expanded. */
  maxMutations: number;
  /** GRAPHQL_MAX_ENTITIES: `_entities` representations per request. */
  maxEntities: number;
  /** GRAPHQL_MAX_TOKENS: lexical tokens of a document; parsing stops beyond it. */
  maxTokens: number;
  /** GRAPHQL_INTROSPECTION: `__schema`/`__type` allowed (federation's `_service` always is). */
  introspection: boolean;
}

/**
 * Dev-only defaults, published in this repository: usable only while PUBLIC_BASE_URL is a loopback URL and NODE_ENV
 * is not `production` (a laptop), refused otherwise, whether defaulted or set explicitly.
 */
export const DEV_JWT_SECRET = 'dev-only-workestra-payments-jwt-secret-change-me';
export const DEV_ENCRYPTION_KEYS = 'dev1:ZGV2LW9ubHktd29ya2VzdHJhLXBheW1lbnRzLWtleSE=';

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function intVar(env: Env, name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) throw new ConfigError(name, `must be an integer, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

/** A non-negative decimal number of hours (e.g. `72`, `0.001` in tests), as milliseconds. */
function hoursVar(env: Env, name: string, fallbackHours: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallbackHours * 3_600_000;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) > 24 * 365) {
    throw new ConfigError(name, `must be a number of hours between 0 and 8760, got "${env[name]}"`);
  }
  return Math.round(Number(raw) * 3_600_000);
}

/** NATS_URL: `nats://` or `tls://` URLs, comma-separated; each is checked. */
function natsUrlVar(env: Env): string {
  const raw = env.NATS_URL?.trim() || 'nats://127.0.0.1:4222';
  const servers = raw.split(',').map((server) => server.trim());
  for (const server of servers) {
    if (!server) throw new ConfigError('NATS_URL', 'has an empty entry in its comma-separated list');
    urlVar({ NATS_URL: server }, 'NATS_URL', null, ['nats:', 'tls:']);
  }
  return servers.join(',');
}

function urlVar(env: Env, name: string, fallback: string | null, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')} (got ${url.protocol})`);
  }
  return raw.replace(/\/+$/, '');
}

function boolVar(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `must be true or false, got "${env[name]}"`);
}

/** True for http(s) URLs whose host is `localhost`, an address in 127.0.0.0/8 or `[::1]`. */
export function isLoopbackUrl(raw: string): boolean {
  let host: string;
  try {
    host = new URL(raw).hostname.toLowerCase();
  } catch {
    return false;
  }
  // WHATWG URL parsing normalises IPv4 forms (`127.1`, `0x7f.0.0.1`) to dotted decimal and keeps IPv6 in brackets.
  return host === 'localhost' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** A secret with a published dev default: the default (or the same value set explicitly) only on a loopback dev box. */
function secretVar(env: Env, name: string, devDefault: string, devDefaultsAllowed: boolean, nodeEnv: string): string {
  const value = env[name] || devDefault;
  if (value === devDefault && !devDefaultsAllowed) {
    const where =
      nodeEnv === 'production'
        ? 'NODE_ENV=production'
        : 'PUBLIC_BASE_URL is not a loopback URL (localhost, 127.x, [::1])';
    throw new ConfigError(
      name,
      `must be set to a real secret: the published dev-only default is refused while ${where}`,
    );
  }
  return value;
}

/** The GraphQL limits alone, with the same validation as loadConfig (which includes them as `config.graphql`). */
export function readGraphQLLimits(env: Record<string, string | undefined>): GraphQLLimits {
  const production = (env.NODE_ENV ?? 'development') === 'production';
  return {
    maxDepth: intVar(env, 'GRAPHQL_MAX_DEPTH', 10, 1, 100),
    maxCost: intVar(env, 'GRAPHQL_MAX_COST', 20_000, 1, 100_000_000),
    maxAliases: intVar(env, 'GRAPHQL_MAX_ALIASES', 50, 0, 100_000),
    maxMutations: intVar(env, 'GRAPHQL_MAX_MUTATIONS', 5, 1, 1000),
    maxEntities: intVar(env, 'GRAPHQL_MAX_ENTITIES', 500, 1, 100_000),
    maxTokens: intVar(env, 'GRAPHQL_MAX_TOKENS', 2_000, 100, 1_000_000),
    introspection: boolVar(env, 'GRAPHQL_INTROSPECTION', !production),
  };
}

function parseRole(argv: string[], env: Env): Role {
  const index = argv.findIndex((arg) => arg === '--role' || arg.startsWith('--role='));
  let raw = env.PAYMENTS_ROLE ?? 'all';
  if (index >= 0) raw = argv[index].includes('=') ? argv[index].split('=')[1] : (argv[index + 1] ?? '');
  if (raw !== 'api' && raw !== 'worker' && raw !== 'all') {
    throw new ConfigError('--role', `must be api, worker or all, got "${raw}"`);
  }
  return raw;
}

/** Reads and validates the configuration; throws ConfigError naming the first bad variable. */
export function loadConfig(env: Env = process.env, argv: string[] = process.argv.slice(2)): Config {
  const nodeEnv = env.NODE_ENV ?? 'development';
  const production = nodeEnv === 'production';
  const port = intVar(env, 'PORT', 4001, 0, 65535);

  const publicBaseUrl = urlVar(env, 'PUBLIC_BASE_URL', `http://localhost:${port}`, ['http:', 'https:'])!;
  const devDefaultsAllowed = !production && isLoopbackUrl(publicBaseUrl);
  const authJwtSecret = secretVar(env, 'AUTH_JWT_SECRET', DEV_JWT_SECRET, devDefaultsAllowed, nodeEnv);
  if (Buffer.byteLength(authJwtSecret) < 32) {
    throw new ConfigError('AUTH_JWT_SECRET', 'must be at least 32 bytes for HS256');
  }
  const encryptionKeys = secretVar(env, 'PAYMENTS_ENCRYPTION_KEYS', DEV_ENCRYPTION_KEYS, devDefaultsAllowed, nodeEnv);
  let ring: KeyRing;
  try {
    ring = parseKeyRing(encryptionKeys);
  } catch (error) {
    const problem =
      error instanceof Error ? error.message.replace(/^PAYMENTS_ENCRYPTION_KEYS( is invalid)?:?\s*/, '') : 'is invalid';
    throw new ConfigError('PAYMENTS_ENCRYPTION_KEYS', problem);
  }
  // The published key under another id, or as a second key of a ring, is as public as the default itself.
  const devKey = parseKeyRing(DEV_ENCRYPTION_KEYS).primary().key;
  if (!devDefaultsAllowed && ring.ids().some((id) => ring.key(id)!.equals(devKey))) {
    throw new ConfigError(
      'PAYMENTS_ENCRYPTION_KEYS',
      'contains the published dev-only key, refused outside a loopback dev box',
    );
  }

  const prefix = env.NATS_SUBJECT_PREFIX || 'payments';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) {
    throw new ConfigError(
      'NATS_SUBJECT_PREFIX',
      'must be 1-64 letters, digits, "_" or "-" (it names subjects and streams)',
    );
  }

  const backoffRaw = env.SETTLEMENT_BACKOFF_MS || '1000,5000,30000,120000,600000';
  const settlementBackoffMs = backoffRaw.split(',').map((part) => {
    if (!/^\d+$/.test(part.trim()) || Number(part) <= 0) {
      throw new ConfigError(
        'SETTLEMENT_BACKOFF_MS',
        `must be a comma-separated list of positive milliseconds, got "${backoffRaw}"`,
      );
    }
    return Number(part.trim());
  });

  return {
    nodeEnv,
    role: parseRole(argv, env),
    port,
    databaseUrl: urlVar(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/workestra_payments', [
      'postgres:',
      'postgresql:',
    ])!,
    natsUrl: natsUrlVar(env),
    natsStreamReplicas: intVar(env, 'NATS_STREAM_REPLICAS', 1, 1, 5),
    natsSubjectPrefix: prefix,
    publicBaseUrl,
    authJwtSecret,
    encryptionKeys,
    providerApiUrls: Object.fromEntries(
      PROVIDERS.map((provider) => [
        provider,
        urlVar(env, `${provider.toUpperCase()}_API_URL`, null, ['http:', 'https:']),
      ]),
    ) as Record<Provider, string | null>,
    trustProxy: boolVar(env, 'TRUST_PROXY', false),
    settlementMaxDeliver: intVar(env, 'SETTLEMENT_MAX_DELIVER', 6, 1, 100),
    settlementBackoffMs,
    settlementConcurrency: intVar(env, 'SETTLEMENT_CONCURRENCY', 256, 1, 1024),
    settlementAckWaitMs: intVar(env, 'SETTLEMENT_ACK_WAIT_MS', 30_000, 1000, 600_000),
    settlementStallMs: intVar(env, 'SETTLEMENT_STALL_MS', 15_000, 1000, 600_000),
    reconcileIntervalMs: intVar(env, 'RECONCILE_INTERVAL_MS', 300_000, 100),
    reconcilePendingAfterMs: intVar(env, 'RECONCILE_PENDING_AFTER_MS', 3_600_000, 0),
    disconnectGraceMs: hoursVar(env, 'DISCONNECT_GRACE_HOURS', 72),
    graceSweepIntervalMs: intVar(env, 'GRACE_SWEEP_INTERVAL_MS', 60_000, 100),
    auditIntervalMs: intVar(env, 'AUDIT_INTERVAL_MS', 21_600_000, 100),
    auditLookbackMs: hoursVar(env, 'AUDIT_LOOKBACK_HOURS', 72),
    dlqRetryIntervalMs: intVar(env, 'DLQ_RETRY_INTERVAL_MS', 600_000, 100),
    dlqMaxAutoRetries: intVar(env, 'DLQ_MAX_AUTO_RETRIES', 5, 0, 1000),
    startupTimeoutMs: intVar(env, 'STARTUP_TIMEOUT_MS', 60_000, 0, 3_600_000),
    webhookRate: webhookRateVar(env),
    eventsStreamMaxBytes: intVar(env, 'EVENTS_STREAM_MAX_BYTES', 10 * 1024 ** 3, 1024),
    otlpEndpoint: urlVar(env, 'OTEL_EXPORTER_OTLP_ENDPOINT', null, ['http:', 'https:']),
    logLevel: env.LOG_LEVEL || (production ? 'info' : env.NODE_ENV === 'test' ? 'warn' : 'info'),
    graphql: readGraphQLLimits(env),
  };
}
