import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';

/** Largest `/graphql` body (the gateway's 100-invoice batch is ~20 KB). */
export const GRAPHQL_BODY_LIMIT = '1mb';

/** Codes of `/graphql` failures that happen before GraphQL runs (body, content type, encoding). */
export type RequestErrorCode = 'PAYLOAD_TOO_LARGE' | 'BAD_REQUEST' | 'UNSUPPORTED_MEDIA_TYPE';

/** Answers in the GraphQL error shape, so every `/graphql` failure parses the same way for a client. */
export function sendGraphQLError(res: Response, status: number, code: RequestErrorCode, message: string): void {
  res.status(status).json({ errors: [{ message, extensions: { code } }] });
}

const JSON_TYPE = /^application\/json\s*(?:;|$)/i;

/**
 * A POST must carry JSON. Without this, a text/plain or form body reaches Apollo's CSRF guard, whose message
 * (about preflight headers) does not tell a client that the content type is what is wrong.
 */
export function requireJsonBody(onError: (code: RequestErrorCode) => void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'POST') return next();
    const type = req.headers['content-type'];
    if (type && JSON_TYPE.test(type)) return next();
    onError('UNSUPPORTED_MEDIA_TYPE');
    sendGraphQLError(
      res,
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      `POST /graphql needs Content-Type: application/json (got ${type ? JSON.stringify(type.split(';')[0].trim().slice(0, 100)) : 'none'})`,
    );
  };
}

/** Turns the JSON body parser's refusals into GraphQL-shaped errors; the body itself is never echoed. */
export function bodyParserErrors(onError: (code: RequestErrorCode) => void): ErrorRequestHandler {
  return (error: Error & { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
    const answer = describe(error);
    if (!answer) return next(error);
    onError(answer.code);
    sendGraphQLError(res, answer.status, answer.code, answer.message);
  };
}

function describe(
  error: Error & { status?: number; type?: string; body?: unknown; charset?: string; encoding?: string },
): { status: number; code: RequestErrorCode; message: string } | null {
  switch (error.type) {
    case 'entity.too.large':
      return {
        status: 413,
        code: 'PAYLOAD_TOO_LARGE',
        message: `The request body is larger than the ${GRAPHQL_BODY_LIMIT} limit of /graphql: send fewer representations or smaller variables`,
      };
    case 'entity.parse.failed': {
      const start = typeof error.body === 'string' ? error.body.trimStart()[0] : undefined;
      const notObject = start !== undefined && start !== '{' && start !== '[';
      return {
        status: 400,
        code: 'BAD_REQUEST',
        message: notObject
          ? 'The request body must be a JSON object such as {"query": "…", "variables": {…}}'
          : 'The request body is not valid JSON (check quoting and escaping of the query and variables)',
      };
    }
    case 'charset.unsupported':
      return {
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'The request body must be UTF-8 JSON (Content-Type: application/json; charset=utf-8)',
      };
    case 'encoding.unsupported':
      return {
        status: 415,
        code: 'UNSUPPORTED_MEDIA_TYPE',
        message: 'Unsupported Content-Encoding: send the body as is, gzip or deflate',
      };
    case 'request.aborted':
    case 'request.size.invalid':
      return { status: 400, code: 'BAD_REQUEST', message: 'The request body was incomplete' };
    default:
      return error.status && error.status >= 400 && error.status < 500
        ? { status: error.status, code: 'BAD_REQUEST', message: 'The request body could not be read' }
        : null;
  }
}
