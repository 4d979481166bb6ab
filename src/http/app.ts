import { randomUUID } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { isDatabaseUnreachable } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

/** The Express app skeleton: request ids, access logs, metrics. Routers are mounted by the composition root. */
export function createExpressApp(deps: { logger: Logger; metrics: Metrics; trustProxy: boolean }): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.trustProxy);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const incoming = req.headers['x-request-id'];
    const requestId = typeof incoming === 'string' && /^[\w.-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.locals.requestId = requestId;
    res.locals.log = deps.logger.child({ requestId });
    // Paths are logged without query strings, and pay tokens are masked.
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const path = req.originalUrl.split('?')[0].replace(/^\/pay\/(?!success$|cancel$)[^/]+/, '/pay/:token');
      if (path === '/healthz' || path === '/readyz' || path === '/metrics') return;
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      (res.locals.log as Logger).info(
        { method: req.method, path, status: res.statusCode, ms: Math.round(ms * 10) / 10 },
        'request',
      );
    });
    next();
  });
  app.use(deps.metrics.middleware());
  return app;
}

/** Final handlers: 404 for unknown routes, 503 for an unreachable database, and a 500 that never leaks a stack. */
export function finishApp(app: Express, logger: Logger): void {
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not found' });
  });
  app.use((error: Error & { status?: number; type?: string }, _req: Request, res: Response, _next: NextFunction) => {
    if (error.status && error.status >= 400 && error.status < 500) {
      res.status(error.status).json({ error: error.type === 'entity.too.large' ? 'payload too large' : 'bad request' });
      return;
    }
    const log = (res.locals.log as Logger | undefined) ?? logger;
    if (isDatabaseUnreachable(error)) {
      log.warn('request failed: database unreachable');
      res.status(503).set('Retry-After', '5').json({ error: 'temporarily unavailable, retry later' });
      return;
    }
    log.error({ err: error }, 'unhandled error');
    res.status(500).json({ error: 'internal error' });
  });
}

/** Names a mounted route for metrics and logs. */
export const routeName = (route: string) => (_req: Request, res: Response, next: NextFunction) => {
  res.locals.route = route;
  next();
};
