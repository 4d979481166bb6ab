import 'reflect-metadata';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Express } from 'express';
import type { NatsConnection } from '@nats-io/transport-node';
import { JwtVerifier } from './auth/jwt.js';
import type { Config } from './config.js';
import { startWorkers } from './consumers/workers.js';
import { countOpenDisputes } from './db/dispute.repository.js';
import { openOrm, type QueryListener } from './db/orm.js';
import { createExpressApp, finishApp, routeName } from './http/app.js';
import { createGraphQLHandler } from './graphql/graphql.route.js';
import { dependencyChecks, healthRoutes } from './http/health.routes.js';
import { Metrics } from './observability/metrics.js';
import { startTracing } from './observability/tracing.js';
import { payRoutes } from './http/pay.routes.js';
import { webhookHandler, type WebhookHandler } from './http/webhook.handler.js';
import type { JetStreamNames } from './jetstream/names.js';
import { provisionJetStream } from './jetstream/provision.js';
import { EventPublisher } from './jetstream/publisher.js';
import type { Logger } from './observability/logger.js';
import { buildFederatedSchema } from './graphql/build-federated-schema.js';
import { connectNats } from './jetstream/connect.js';
import { buildServices } from './services/build-services.js';
import type { Services } from './services/services.js';
import { WebhookAccounts } from './services/webhook-accounts.js';
import { waitForDependencies } from './startup/dependencies.js';

/** A running service: its URL and the parts tests and the CLI may reach into. */
export interface RunningService {
  url: string;
  port: number;
  orm: MikroORM;
  nats: NatsConnection;
  metrics: Metrics;
  names: JetStreamNames;
  services: Services;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Observes every SQL statement (tests and the benchmark count them). */
  onQuery?: QueryListener;
}

/**
 * The stream gauges' probe: one DLQ stream info and one consumer info, concurrently; Metrics runs it at most once per
 * 5 s whatever the scrape rate, and never on the hot path.
 */
function observeJetStream(metrics: Metrics, jsm: JetStreamManager, names: JetStreamNames) {
  metrics.jetStreamProbe = async () => {
    const [dlq, consumer] = await Promise.all([
      jsm.streams.info(names.dlqStream).catch(() => null),
      jsm.consumers.info(names.eventsStream, names.consumer).catch(() => null),
    ]);
    return { dlqMessages: dlq?.state.messages ?? 0, consumerPending: consumer?.num_pending ?? 0 };
  };
}

/** The open-disputes gauge: one cheap count per scrape window (cached like the JetStream probe). */
function observeDisputes(metrics: Metrics, orm: MikroORM) {
  metrics.openDisputesProbe = () => countOpenDisputes(orm.em.fork());
}

/** The composition root: config → ORM → NATS/JetStream → services → HTTP (api role) and workers (worker role). */
export async function startService(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningService> {
  // Once per process (main.ts starts it earlier, before modules load): trace ids and `traceparent` even without export.
  startTracing({ otlpEndpoint: config.otlpEndpoint });
  const { orm, nats, names } = await connectBackends(config, logger, options);
  const js = jetstream(nats);
  const jsm = await jetstreamManager(nats);
  const metrics = new Metrics();
  observeJetStream(metrics, jsm, names);
  observeDisputes(metrics, orm);
  let draining = false;
  const services = buildServices(config, orm, logger, metrics);

  const app = createExpressApp({ logger, metrics, trustProxy: config.trustProxy });
  app.use(
    healthRoutes({
      checks: dependencyChecks(orm, nats),
      metrics,
      isDraining: () => draining,
      // webhooks are stored in JetStream without PostgreSQL (last known accounts): keep taking them
      degradable: config.role === 'api' ? ['postgres'] : [],
    }),
  );
  const stops: Array<() => Promise<void>> = [];
  let webhooks: WebhookHandler = () => false;
  if (config.role !== 'worker') {
    const api = await mountApi(app, { config, orm, js, names, services, metrics, logger });
    webhooks = api.webhooks;
    stops.push(api.stop);
  }
  if (config.role !== 'api')
    stops.push(
      startWorkers({
        config,
        nats,
        js,
        jsm,
        names,
        services,
        metrics,
        logger,
        databaseProbe: () => orm.em.getConnection().execute('select 1'),
      }),
    );
  finishApp(app, logger);

  // Webhooks are answered on plain node:http ahead of Express: the hot path skips the framework.
  const server = await listen(config.port, (req, res) => webhooks(req, res) || app(req, res));
  const { port } = server.address() as AddressInfo;
  logger.info({ port, role: config.role, prefix: config.natsSubjectPrefix }, 'workestra-payments listening');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      draining = true;
      const closed = closeServer(server);
      // Workers drain their in-flight messages while the HTTP server finishes its requests.
      for (const stopPart of stops.reverse()) await stopPart();
      await closed;
      await nats.drain().catch(() => nats.close());
      await orm.close();
      logger.info('workestra-payments stopped');
    })();
    return stopping;
  };

  return { url: `http://127.0.0.1:${port}`, port, orm, nats, metrics, names, services, stop };
}

/**
 * PostgreSQL (migrated) and NATS with the streams provisioned, waiting for both up to STARTUP_TIMEOUT_MS (in compose or
 * Kubernetes they may start after us); nothing is left open when either fails.
 */
async function connectBackends(config: Config, logger: Logger, options: StartOptions) {
  const nats = await waitForDependencies(config, logger, () =>
    connectNats(config.natsUrl, `workestra-payments-${config.role}`),
  );
  let orm: MikroORM | undefined;
  try {
    orm = await openOrm(config.databaseUrl, options.onQuery);
    const { names } = await provisionJetStream(nats, {
      prefix: config.natsSubjectPrefix,
      maxDeliver: config.settlementMaxDeliver,
      backoffMs: config.settlementBackoffMs,
      ackWaitMs: config.settlementAckWaitMs,
      eventsMaxBytes: config.eventsStreamMaxBytes,
      replicas: config.natsStreamReplicas,
    });
    return { orm, nats, names };
  } catch (error) {
    await nats.close();
    await orm?.close();
    throw error;
  }
}

/** The api role: webhooks (served ahead of Express), GraphQL and the pay pages. */
async function mountApi(
  app: Express,
  deps: Pick<RunningService, 'orm' | 'names' | 'services' | 'metrics'> & {
    config: Config;
    js: JetStreamClient;
    logger: Logger;
  },
): Promise<{ webhooks: WebhookHandler; stop: () => Promise<void> }> {
  const { config, orm, js, names, services, metrics, logger } = deps;
  const webhooks = webhookHandler({
    providers: services.providers,
    accounts: new WebhookAccounts(orm, services.secrets),
    publisher: new EventPublisher(js, { timeoutMs: 2000, expectStream: names.eventsStream }),
    names,
    metrics,
    logger,
    trustProxy: config.trustProxy,
    rate: config.webhookRate,
  });
  const graphql = await createGraphQLHandler({
    schema: await buildFederatedSchema(),
    orm,
    jwt: new JwtVerifier(config.authJwtSecret),
    services,
    logger,
    limits: config.graphql,
    countError: (code) => metrics.graphqlErrors.inc({ code }),
  });
  app.use('/graphql', routeName('/graphql'), ...graphql.handlers);
  app.use(payRoutes(services.checkout, metrics));
  return { webhooks, stop: graphql.stop };
}

async function listen(port: number, handle: (req: IncomingMessage, res: ServerResponse) => unknown): Promise<Server> {
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => resolve());
  });
  server.keepAliveTimeout = 65_000;
  return server;
}

/** Stops accepting, lets running requests finish (idle keep-alive connections close now, the rest after 4 s). */
function closeServer(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const forceAfter = setTimeout(() => server.closeAllConnections(), 4000);
  return closed.finally(() => clearTimeout(forceAfter));
}
