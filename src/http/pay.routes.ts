import { Router, type Response } from 'express';
import type { Metrics } from '../observability/metrics.js';
import type { CheckoutService } from '../services/checkout.service.js';
import { renderPayPage, type PayPage } from './pay-pages.js';
import { TokenBuckets } from './rate-limit.js';

function send(res: Response, status: number, kind: PayPage) {
  res
    .status(status)
    .set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' })
    .type('html')
    .send(renderPayPage(kind));
}

/** Clicks on one pay link a minute, at most (a looping client or a mail scanner must not exhaust the provider's limit). */
export const PAY_LINK_CLICKS_PER_MINUTE = 20;

/** Customer-facing pay routes: the pay link redirect and the branded success/cancel pages. */
export function payRoutes(checkout: CheckoutService, metrics: Metrics): Router {
  const count = (outcome: string, status: number) => metrics.payLinkClicks.inc({ outcome, status: String(status) });
  const router = Router();
  const clicks = new TokenBuckets({ perSecond: PAY_LINK_CLICKS_PER_MINUTE / 60, burst: PAY_LINK_CLICKS_PER_MINUTE });
  router.get('/pay/success', (_req, res) => send(res, 200, 'success'));
  router.get('/pay/cancel', (_req, res) => send(res, 200, 'cancel'));
  router.get('/pay/:token', async (req, res) => {
    const wait = clicks.take(req.params.token);
    if (wait > 0) {
      res.set('Retry-After', String(wait));
      count('rate_limited', 429);
      send(res, 429, 'too_many');
      return;
    }
    const outcome = await checkout.click(req.params.token).catch((error: unknown) => {
      count('error', 500);
      throw error;
    });
    if (outcome.kind === 'redirect') {
      count(outcome.reused ? 'reused' : 'redirect', 303);
      res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).redirect(303, outcome.url);
      return;
    }
    count(outcome.page, outcome.status);
    send(res, outcome.status, outcome.page);
  });
  return router;
}
