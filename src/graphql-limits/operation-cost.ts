import {
  Kind,
  type DocumentNode,
  type FieldNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { fragmentMemo, fragmentsOf } from './selections.js';

/** Items assumed for a list whose length the request does not state (payments of an invoice, refunds of a payment…). */
export const ASSUMED_LIST_SIZE = 5;
/** Cost of one SQL statement or provider call that no DataLoader batches: about as much work as this many objects. */
export const ROUND_TRIP_COST = 25;

export interface OperationEstimate {
  /** Objects the operation can return (each list counted at its length) plus unbatched round trips × ROUND_TRIP_COST. */
  cost: number;
  /** `_entities` representations the operation resolves. */
  entities: number;
}

type Variables = Readonly<Record<string, unknown>>;

/*
 * Types are told apart by their tag, not graphql's class predicates (isListType…): those throw when the schema was
 * built by another copy of graphql (vitest loads graphql's ESM build for our sources, Apollo loads the CommonJS one).
 */
const tagOf = (type: unknown) => Object.prototype.toString.call(type).slice(8, -1);
const COMPOSITE = new Set(['GraphQLObjectType', 'GraphQLInterfaceType', 'GraphQLUnionType']);

interface FieldShape {
  /** The named type, when it has fields of its own (object, interface, union); null for scalars and enums. */
  composite: GraphQLNamedType | null;
  list: boolean;
}
const shapes = new WeakMap<object, FieldShape>();

/** What a field returns, unwrapped once per field definition (the schema never changes while it serves). */
function shapeOf(field: GraphQLField<unknown, unknown>): FieldShape {
  const known = shapes.get(field);
  if (known) return known;
  let current: GraphQLOutputType = field.type;
  let list = false;
  while ('ofType' in current) {
    if (tagOf(current) === 'GraphQLList') list = true;
    current = current.ofType;
  }
  const shape = { composite: COMPOSITE.has(tagOf(current)) ? current : null, list };
  shapes.set(field, shape);
  return shape;
}

/** The shape of field `name` of `parent`; undefined for `__typename` and for fields validation has refused. */
function fieldShape(schema: GraphQLSchema, parent: GraphQLNamedType, name: string): FieldShape | undefined {
  if (name === '__schema' || name === '__type') {
    return parent === schema.getQueryType()
      ? { composite: schema.getType(name === '__schema' ? '__Schema' : '__Type') ?? null, list: false }
      : undefined;
  }
  if (!('getFields' in parent)) return undefined; // a union: only __typename
  const field = (parent.getFields() as Record<string, GraphQLField<unknown, unknown> | undefined>)[name];
  return field && shapeOf(field);
}

/**
 * Round trips one occurrence of a field costs beyond its objects. Everything else is batched per request
 * (invoices, payments, refunds, full-balance pay links, provider accounts: one statement per batch).
 */
function roundTrips(schema: GraphQLSchema, parent: GraphQLNamedType, field: FieldNode, variables: Variables): number {
  if (parent === schema.getMutationType()) return 4; // provider calls and a transaction each
  if (parent === schema.getQueryType() && field.name.value === 'payment') return 1; // one lookup per id
  if (parent.name === 'Invoice' && field.name.value === 'payLink' && argumentGiven(field, 'amountMinor', variables))
    return 1; // partial link upsert
  return 0;
}

function argumentGiven(field: FieldNode, name: string, variables: Variables): boolean {
  const value = field.arguments?.find((argument) => argument.name.value === name)?.value;
  if (!value || value.kind === Kind.NULL) return false;
  return value.kind !== Kind.VARIABLE || (variables[value.name.value] ?? null) !== null;
}

/** How many representations `_entities` is given: a literal list, or the variable it names (1 when neither). */
function representationCount(field: FieldNode, variables: Variables): number {
  const value = field.arguments?.find((argument) => argument.name.value === 'representations')?.value;
  if (value?.kind === Kind.LIST) return value.values.length;
  if (value?.kind === Kind.VARIABLE) {
    const list = variables[value.name.value];
    return Array.isArray(list) ? list.length : 1;
  }
  return 1;
}

/**
 * Estimates what executing `operation` would cost, fragments expanded (each measured once). Cheap: linear in the
 * document, run once per request after validation and before anything executes.
 */
export function estimateOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Variables = {},
): OperationEstimate {
  let entities = 0;
  const typeNamed = (name: string) => {
    const type = schema.getType(name);
    return type && COMPOSITE.has(tagOf(type)) ? type : undefined;
  };
  const spread = fragmentMemo(
    fragmentsOf(document),
    (fragment) => {
      const type = typeNamed(fragment.typeCondition.name.value);
      return type ? cost(fragment.selectionSet, type) : 0;
    },
    0,
  );

  function cost(selectionSet: SelectionSetNode, parent: GraphQLNamedType): number {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        total += spread(selection.name.value);
        continue;
      }
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? typeNamed(selection.typeCondition.name.value) : parent;
        if (type) total += cost(selection.selectionSet, type);
        continue;
      }
      const shape = fieldShape(schema, parent, selection.name.value);
      if (!shape) continue;
      total += roundTrips(schema, parent, selection, variables) * ROUND_TRIP_COST;
      const { composite: named, list } = shape;
      if (!named) continue;
      let items = list ? ASSUMED_LIST_SIZE : 1;
      if (list && parent === schema.getQueryType() && selection.name.value === '_entities') {
        items = representationCount(selection, variables);
        entities += items;
      }
      total += items * (1 + (selection.selectionSet ? cost(selection.selectionSet, named) : 0));
    }
    return total;
  }

  const root = {
    query: schema.getQueryType(),
    mutation: schema.getMutationType(),
    subscription: schema.getSubscriptionType(),
  }[operation.operation];
  return { cost: root ? cost(operation.selectionSet, root) : 0, entities };
}
