import 'reflect-metadata';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { JwtVerifier } from './auth/jwt.js';
import type { Config } from './config.js';
import { startPullConsumer } from './consumers/consume-loop.js';
import { startDeadLetterForwarder } from './consumers/dead-letter.js';
import { startDlqRetrier } from './consumers/dlq-retrier.js';
import { settlementHandler } from './consumers/settlement.consumer.js';
import { openOrm, type QueryListener } from './db/orm.js';
import { createExpressApp, finishApp, routeName } from './http/app.js';
import { createGraphQLHandler } from './graphql/graphql.route.js';
import { dependencyChecks, healthRoutes } from './http/health.routes.js';
import { Metrics } from './observability/metrics.js';
import { payRoutes } from './http/pay.routes.js';
import { webhookHandler } from './http/webhook.handler.js';
import type { JetStreamNames } from './jetstream/names.js';
import { provisionJetStream } from './jetstream/provision.js';
import { EventPublisher } from './jetstream/publisher.js';
import type { Logger } from './observability/logger.js';
import { buildFederatedSchema } from './graphql/build-federated-schema.js';
import { buildServices, connectNats } from './services/build-services.js';
import type { Services } from './services/services.js';
import { startReconciler } from './settlement/reconciler.js';
import { WebhookAccounts } from './services/webhook-accounts.js';

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

/** The composition root: config → ORM → NATS/JetStream → services → HTTP (api role) and workers (worker role). */
export async function startService(
  config: Config,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningService> {
  const orm = await openOrm(config.databaseUrl, options.onQuery);
  let nats: NatsConnection;
  let names: JetStreamNames;
  try {
    nats = await connectNats(config, `workestra-payments-${config.role}`);
    ({ names } = await provisionJetStream(nats, {
      prefix: config.natsSubjectPrefix,
      maxDeliver: config.settlementMaxDeliver,
      backoffMs: config.settlementBackoffMs,
      ackWaitMs: config.settlementAckWaitMs,
      eventsMaxBytes: config.eventsStreamMaxBytes,
    }));
  } catch (error) {
    await orm.close();
    throw error;
  }
  const js = jetstream(nats);
  const jsm = await jetstreamManager(nats);
  const metrics = new Metrics();
  observeJetStream(metrics, jsm, names);
  let draining = false;
  const services = buildServices(config, orm, logger);

  const app = createExpressApp({ logger, metrics, trustProxy: config.trustProxy });
  app.use(healthRoutes({ checks: dependencyChecks(orm, nats), metrics, isDraining: () => draining }));
  const stops: Array<() => Promise<void>> = [];
  let webhooks: ReturnType<typeof webhookHandler> = () => false;
  if (config.role !== 'worker') {
    const publisher = new EventPublisher(js, { timeoutMs: 2000, expectStream: names.eventsStream });
    webhooks = webhookHandler({
      providers: services.providers,
      accounts: new WebhookAccounts(orm, services.secrets),
      publisher,
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
    });
    app.use('/graphql', routeName('/graphql'), ...graphql.handlers);
    app.use(payRoutes(services.checkout));
    stops.push(graphql.stop);
  }
  if (config.role !== 'api') {
    const consumer = startPullConsumer({
      js,
      nc: nats,
      stream: names.eventsStream,
      consumer: names.consumer,
      concurrency: config.settlementConcurrency,
      backoffMs: config.settlementBackoffMs,
      // Short pulls keep shutdown quick (stop() lets the open pull run out); an idle pull a second is cheap.
      expiresMs: 1000,
      logger: logger.child({ component: 'settlement' }),
      handle: settlementHandler(services.settlement, metrics, logger.child({ component: 'settlement' })),
    });
    const forwarder = startDeadLetterForwarder({
      nc: nats,
      js,
      jsm,
      names,
      logger,
      lastError: (msgId) => services.settlement.lastError(msgId),
    });
    const retrier = startDlqRetrier({
      js,
      jsm,
      names,
      intervalMs: config.dlqRetryIntervalMs,
      maxAutoRetries: config.dlqMaxAutoRetries,
      logger,
    });
    const reconciler = startReconciler(
      services.reconciler,
      config.reconcileIntervalMs,
      logger.child({ component: 'reconciler' }),
    );
    stops.push(
      () => reconciler.stop(),
      () => retrier.stop(),
      () => forwarder.stop(),
      () => consumer.stop(),
    );
  }
  finishApp(app, logger);

  // Webhooks are answered on plain node:http ahead of Express: the hot path skips the framework.
  const server: Server = createServer((req, res) => {
    if (webhooks(req, res)) return;
    app(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, () => resolve());
  });
  server.keepAliveTimeout = 65_000;
  const { port } = server.address() as AddressInfo;
  logger.info({ port, role: config.role, prefix: config.natsSubjectPrefix }, 'workestra-payments listening');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      draining = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const forceAfter = setTimeout(() => server.closeAllConnections(), 4000);
      // Workers drain their in-flight messages while the HTTP server finishes its requests.
      for (const stopPart of stops.reverse()) await stopPart();
      await closed;
      clearTimeout(forceAfter);
      await nats.drain().catch(() => nats.close());
      await orm.close();
      logger.info('workestra-payments stopped');
    })();
    return stopping;
  };

  return { url: `http://127.0.0.1:${port}`, port, orm, nats, metrics, names, services, stop };
}
