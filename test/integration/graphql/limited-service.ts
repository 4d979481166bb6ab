import { startTestService, type TestService } from '../../helpers/service.js';

/** Starts an API-only service (no worker, so no background SQL) whose GraphQL limits come from `env`. */
export function startLimitedService(env: Record<string, string> = {}): Promise<TestService> {
  return startTestService(env, ['--role', 'api']);
}

/** SQL statements the service ran since `service.queries` was last emptied. */
export const statementsOf = (service: TestService) =>
  service.queries.filter((sql) => /^\s*(select|insert|update|delete|with)\b/i.test(sql));

/** A raw POST to /graphql (for bodies `service.gql` cannot send). */
export async function postGraphQL(
  service: TestService,
  body: unknown,
  token?: string,
): Promise<{
  status: number;
  body: { data?: unknown; errors?: Array<{ message: string; extensions?: { code?: string } }> } | Array<unknown>;
}> {
  const response = await fetch(`${service.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as never };
}
