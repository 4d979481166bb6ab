import { ApolloServer, type BaseContext } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import type { MikroORM } from '@mikro-orm/postgresql';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import type { GraphQLSchema } from 'graphql';
import type { JwtVerifier } from '../auth/jwt.js';
import type { GraphQLLimits } from '../config.js';
import { DomainError } from '../errors.js';
import { apolloLimitOptions } from '../graphql-limits/apollo-limits.js';
import type { Logger } from '../observability/logger.js';
import { createLoaders, type Loaders } from '../resolvers/loaders.js';
import type { GraphQLContext } from '../resolvers/context.js';
import { formatError } from './format-error.js';
import { secretInputsPlugin } from './secret-inputs.plugin.js';
import { bodyParserErrors, GRAPHQL_BODY_LIMIT, requireJsonBody } from './request-errors.js';
import type { Services } from '../services/services.js';

export interface GraphQLDeps {
  schema: GraphQLSchema;
  orm: MikroORM;
  jwt: JwtVerifier;
  services: Services;
  logger: Logger;
  /** Abuse limits (`config.graphql`). */
  limits: GraphQLLimits;
  /** Told the `extensions.code` of every error `/graphql` answers (`payments_graphql_errors_total{code}`). */
  countError?: (code: string) => void;
}

/** Apollo's own logger, quietened: inline tracing stays on for the gateway, its start-up notice goes to debug. */
function apolloLogger(logger: Logger) {
  return {
    debug: (message: unknown) => logger.debug({ apollo: true }, String(message)),
    info: (message: unknown) => logger.debug({ apollo: true }, String(message)),
    warn: (message: unknown) => logger.warn({ apollo: true }, String(message)),
    error: (message: unknown) => logger.error({ apollo: true }, String(message)),
  };
}

/** Starts Apollo Server and returns the `/graphql` handler chain plus a stop function. */
export async function createGraphQLHandler(
  deps: GraphQLDeps,
): Promise<{ handlers: Array<RequestHandler | ErrorRequestHandler>; stop: () => Promise<void> }> {
  const limitOptions = apolloLimitOptions<GraphQLContext>(deps.limits);
  const countError = deps.countError ?? (() => {});
  const server = new ApolloServer<GraphQLContext>({
    ...limitOptions,
    // First: a refusal for a malformed secret input must be the one reported, before any other plugin looks at it.
    plugins: [secretInputsPlugin<GraphQLContext>(), ...(limitOptions.plugins ?? [])],
    schema: deps.schema,
    logger: apolloLogger(deps.logger),
    // Every error Apollo answers passes here with its final code (also request-level ones no plugin hook sees,
    // such as a batch or a GET without a query), so this is where they are counted.
    formatError: (formatted, error) => {
      const answer = formatError(formatted, error, (internal) =>
        deps.logger.error({ err: internal }, 'graphql internal error'),
      );
      countError(String(answer.extensions?.code ?? 'UNKNOWN'));
      return answer;
    },
    includeStacktraceInErrorResponses: false,
    // The composition root owns SIGTERM/SIGINT (drain, then exit 0); Apollo's own handler would re-raise the signal.
    stopOnTerminationSignals: false,
  });
  await server.start();

  const context = async ({ req }: { req: express.Request }): Promise<GraphQLContext> => {
    let auth: GraphQLContext['auth'] = null;
    let authError: DomainError | null = null;
    try {
      auth = await deps.jwt.fromHeader(req.headers.authorization);
    } catch (error) {
      if (!(error instanceof DomainError)) throw error;
      authError = error;
    }
    const em = deps.orm.em.fork();
    let loaders: Loaders | undefined;
    return {
      em,
      auth,
      authError,
      services: deps.services,
      loaders() {
        if (!auth) throw new Error('loaders need an authenticated caller');
        loaders ??= createLoaders(em, auth.workspaceId);
        return loaders;
      },
    };
  };

  return {
    handlers: [
      requireJsonBody(countError),
      express.json({ limit: GRAPHQL_BODY_LIMIT }),
      bodyParserErrors(countError),
      expressMiddleware(server as ApolloServer<BaseContext & GraphQLContext>, { context }),
    ],
    stop: () => server.stop(),
  };
}
