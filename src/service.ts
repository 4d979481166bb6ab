import 'reflect-metadata';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { JwtVerifier } from './auth/jwt.js';
import type { Config } from './config.js';
import { openOrm, type QueryListener } from './db/orm.js';
import { createExpressApp, finishApp, routeName } from './http/app.js';
import { createGraphQLHandler } from './http/graphql.route.js';
import { healthRoutes } from './http/health.routes.js';
import { Metrics } from './http/metrics.js';
import type { Logger } from './logger.js';
import { buildFederatedSchema } from './schema/build-federated-schema.js';
import { parseKeyRing } from './crypto/key-ring.js';
import { payRoutes } from './http/pay.routes.js';
import { ProviderRegistry } from './providers/registry.js';
import { stripeClientFactory } from './providers/stripe/stripe.client.js';
import { StripeProvider } from './providers/stripe/stripe.provider.js';
import { AccountSecrets } from './services/account-secrets.js';
import { CheckoutService } from './services/checkout.service.js';
import { PayLinkService } from './services/pay-link.service.js';
import { ProviderSettingsService } from './services/provider-settings.service.js';
import type { Services } from './services/services.js';

/** A running service: its URL and the parts tests and the CLI may reach into. */
export interface RunningService {
  url: string;
  port: number;
  orm: MikroORM;
  nats: NatsConnection;
  metrics: Metrics;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Observes every SQL statement (tests and the benchmark count them). */
  onQuery?: QueryListener;
}

/** Connects to NATS with endless reconnects: the webhook route answers 503 while it is away. */
export async function connectNats(config: Config, name: string): Promise<NatsConnection> {
  return connect({ servers: config.natsUrl, name, maxReconnectAttempts: -1, reconnectTimeWait: 500, timeout: 5000 });
}

/** Builds the domain services once; the same set serves resolvers, routes, consumers and the CLI. */
export function buildServices(config: Config, orm: MikroORM, logger: Logger): Services {
  const providers = new ProviderRegistry([new StripeProvider(stripeClientFactory(config.stripeApiUrl))]);
  const secrets = new AccountSecrets(parseKeyRing(config.encryptionKeys));
  const payLinks = new PayLinkService(providers, config.publicBaseUrl);
  return {
    config,
    providers,
    secrets,
    payLinks,
    providerSettings: new ProviderSettingsService(providers, secrets, logger),
    checkout: new CheckoutService(orm, providers, secrets, payLinks, config.publicBaseUrl, logger),
  };
}

/** The composition root: config → ORM → NATS → services → HTTP (+ workers by role). */
export async function startService(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningService> {
  const orm = await openOrm(config.databaseUrl, options.onQuery);
  let nats: NatsConnection;
  try {
    nats = await connectNats(config, `workestra-payments-${config.role}`);
  } catch (error) {
    await orm.close();
    throw error;
  }
  const metrics = new Metrics();
  let draining = false;
  const services = buildServices(config, orm, logger);

  const app = createExpressApp({ logger, metrics, trustProxy: config.trustProxy });
  app.use(healthRoutes({ orm, nats, metrics, isDraining: () => draining }));
  const stops: Array<() => Promise<void>> = [];
  if (config.role !== 'worker') {
    const graphql = await createGraphQLHandler({ schema: await buildFederatedSchema(), orm, jwt: new JwtVerifier(config.authJwtSecret), services, logger });
    app.use('/graphql', routeName('/graphql'), ...graphql.handlers);
    app.use(payRoutes(services.checkout));
    stops.push(graphql.stop);
  }
  finishApp(app, logger);

  const server: Server = await new Promise((resolve, reject) => {
    const listening = app.listen(config.port, (error?: Error) => (error ? reject(error) : resolve(listening)));
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
      const forceAfter = setTimeout(() => server.closeAllConnections(), 5000);
      await closed;
      clearTimeout(forceAfter);
      for (const stopPart of stops.reverse()) await stopPart();
      await nats.drain().catch(() => nats.close());
      await orm.close();
      logger.info('workestra-payments stopped');
    })();
    return stopping;
  };

  return { url: `http://127.0.0.1:${port}`, port, orm, nats, metrics, stop };
}
