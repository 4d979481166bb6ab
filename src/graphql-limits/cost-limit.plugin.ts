import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import { formatCount, limitError } from './limit-error.js';
import { estimateOperation } from './operation-cost.js';

/**
 * Apollo plugin: once the operation is resolved (after validation, before execution), refuses it when `_entities` is
 * given too many representations or the estimated cost is too high. It runs per request because both depend on the
 * variables (`representations` usually is one); the estimate is one linear walk of the operation.
 */
export function costLimitPlugin<TContext extends BaseContext>(limits: {
  maxCost: number;
  maxEntities: number;
}): ApolloServerPlugin<TContext> {
  const listener: GraphQLRequestListener<TContext> = {
    async didResolveOperation({ schema, document, operation, request }) {
      if (!operation) return; // no such operation: execution reports it
      const { cost, entities } = estimateOperation(schema, document, operation, request.variables ?? {});
      if (entities > limits.maxEntities) {
        throw limitError(
          `_entities was given ${formatCount(entities)} representations; at most ${formatCount(limits.maxEntities)} are allowed per request.`,
        );
      }
      if (cost > limits.maxCost) {
        throw limitError(
          `The operation's estimated cost is ${formatCount(cost)}; the maximum query cost is ${formatCount(limits.maxCost)}. Ask for fewer objects or split the request.`,
        );
      }
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}
