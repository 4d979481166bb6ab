import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import {
  coerceInputValue,
  getNamedType,
  GraphQLError,
  isInputObjectType,
  isInputType,
  isLeafType,
  isListType,
  isNonNullType,
  TypeInfo,
  typeFromAST,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';

/** Input fields whose values are secrets (DESIGN "Hardening"): no error, response or log ever repeats them. */
export const SECRET_INPUT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  SaveStripeKeysInput: ['secretKey', 'webhookSecret'],
  SaveMollieKeysInput: ['apiKey'],
};

const isSecretField = (typeName: string | undefined, field: string) =>
  typeName !== undefined && (SECRET_INPUT_FIELDS[typeName]?.includes(field) ?? false);

/**
 * graphql-js repeats the offending value in its input errors: a variable that misses `mode` is reported as
 * `Variable "$input" got invalid value { secretKey: "sk_live_…", … }`, and a literal of the wrong shape is printed
 * back. This plugin makes those errors at their source without the value:
 * - variables whose type holds a secret field are coerced here, before execution, with messages that name the
 *   variable, the path and the problem but never repeat an object, a list or anything under a secret field;
 * - validation errors located inside the literal value of a secret field get a message without the value.
 */
export function secretInputsPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  const listener: GraphQLRequestListener<TContext> = {
    async validationDidStart({ schema, document }) {
      return async (errors) => {
        if (errors?.length) redactLiteralErrors(schema, document, errors);
      };
    },
    async didResolveOperation({ schema, operation, request }) {
      if (!operation) return;
      const error = checkSecretVariables(schema, operation, request.variables ?? {});
      if (error) throw error;
    },
  };
  return {
    async requestDidStart() {
      return listener;
    },
  };
}

interface SecretLiteral {
  start: number;
  end: number;
  field: string;
  type: string;
}

/** Rewrites, in place, every validation error whose location lies inside a secret field's literal value. */
export function redactLiteralErrors(schema: GraphQLSchema, document: DocumentNode, errors: readonly Error[]): void {
  const secrets: SecretLiteral[] = [];
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      ObjectField(node) {
        const parent = typeInfo.getParentInputType();
        const parentName = parent ? getNamedType(parent).name : undefined;
        if (!node.value.loc || !isSecretField(parentName, node.name.value)) return;
        secrets.push({
          start: node.value.loc.start,
          end: node.value.loc.end,
          field: `${parentName}.${node.name.value}`,
          type: String(typeInfo.getInputType() ?? 'String'),
        });
      },
    }),
  );
  if (secrets.length === 0) return;
  for (const error of errors) {
    if (!(error instanceof GraphQLError)) continue;
    const inside = secrets.find((secret) =>
      (error.nodes ?? []).some((node) => node.loc && node.loc.start >= secret.start && node.loc.end <= secret.end),
    );
    if (inside) {
      error.message = `Field "${inside.field}" expects a value of type "${inside.type}" (the value of a secret field is never repeated).`;
    }
  }
}

/** True when values of this type can hold a secret field somewhere inside. */
function holdsSecret(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const named = getNamedType(type);
  if (!isInputObjectType(named) || seen.has(named.name)) return false;
  seen.add(named.name);
  return Object.values(named.getFields()).some(
    (field) => isSecretField(named.name, field.name) || holdsSecret(field.type, seen),
  );
}

/** The type expected at `path` below `type`, and whether the path crosses a secret field. */
function locate(
  type: GraphQLInputType,
  path: ReadonlyArray<string | number>,
): { type?: GraphQLInputType; secret: boolean } {
  let current: GraphQLInputType | undefined = type;
  let secret = false;
  for (const segment of path) {
    const nullable: GraphQLInputType | undefined = current && isNonNullType(current) ? current.ofType : current;
    if (typeof segment === 'number') {
      current = nullable && isListType(nullable) ? nullable.ofType : undefined;
    } else if (nullable && isInputObjectType(nullable)) {
      secret ||= isSecretField(nullable.name, segment);
      current = nullable.getFields()[segment]?.type;
    } else {
      current = undefined;
    }
  }
  return { type: current, secret };
}

const isPrimitive = (value: unknown) => value === null || ['string', 'number', 'boolean'].includes(typeof value);

/** Coerces the variables that can hold a secret as graphql-js would, reporting the first problem without the value. */
export function checkSecretVariables(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): GraphQLError | undefined {
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const type = typeFromAST(schema, definition.type);
    // Unknown types, missing and null values are reported by graphql-js itself, without any value.
    if (!type || !isInputType(type) || !holdsSecret(type)) continue;
    if (!Object.prototype.hasOwnProperty.call(variables, name) || variables[name] === null) continue;
    let problem: string | undefined;
    coerceInputValue(variables[name], type, (path, invalidValue, error) => {
      if (problem !== undefined) return;
      const at = locate(type, path);
      const where =
        path.length > 0 ? ` at "${name}${path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${p}`)).join('')}"` : '';
      const expected = at.type ? String(at.type) : 'a valid value';
      let detail = error.message;
      if (at.secret) {
        detail = `expected type "${expected}" (the value of a secret field is never repeated)`;
      } else if (!isPrimitive(invalidValue) && at.type && isLeafType(getNamedType(at.type))) {
        detail = `expected type "${expected}", got ${Array.isArray(invalidValue) ? 'a list' : 'an object'}`;
      }
      problem = `Variable "$${name}" got invalid value${where}; ${detail}`;
    });
    if (problem !== undefined) {
      return new GraphQLError(problem, {
        nodes: [definition],
        extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } },
      });
    }
  }
  return undefined;
}
