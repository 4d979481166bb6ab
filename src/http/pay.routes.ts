import { Router, type Response } from 'express';
import type { CheckoutService } from '../services/checkout.service.js';
import { renderPayPage, type PayPage } from './pay-pages.js';

function send(res: Response, status: number, kind: PayPage) {
  res
    .status(status)
    .set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer', 'X-Frame-Options': 'DENY' })
    .type('html')
    .send(renderPayPage(kind));
}

/** Customer-facing pay routes: the pay link redirect and the branded success/cancel pages. */
export function payRoutes(checkout: CheckoutService): Router {
  const router = Router();
  router.get('/pay/success', (_req, res) => send(res, 200, 'success'));
  router.get('/pay/cancel', (_req, res) => send(res, 200, 'cancel'));
  router.get('/pay/:token', async (req, res) => {
    const outcome = await checkout.click(req.params.token);
    if (outcome.kind === 'redirect') {
      res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' }).redirect(303, outcome.url);
      return;
    }
    send(res, outcome.status, outcome.page);
  });
  return router;
}
