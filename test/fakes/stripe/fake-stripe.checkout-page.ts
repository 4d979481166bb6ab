/**
 * The hosted checkout page a Checkout Session's `url` points to: shows the amount, "pays" on submit
 * (as `completeSession`) and 303-redirects to `success_url` like Stripe Checkout.
 */
import { Router } from 'express';
import type { FakeStripeState } from './fake-stripe.state';
import type { FakeCheckoutSession } from './fake-stripe.types';
import { escapeHtml, formatAmount, isParams } from './fake-stripe.util';

function page(status: number, body: string): { status: number; html: string } {
  const html =
    '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Fake Stripe Checkout</title></head>\n' +
    `<body>\n${body}\n</body>\n</html>\n`;
  return { status, html };
}

function render(session: FakeCheckoutSession | undefined, lineNames: string[]): { status: number; html: string } {
  if (!session)
    return page(404, '<h1>Checkout session not found</h1>\n<p id="message">This checkout link is invalid.</p>');
  if (session.status === 'expired') {
    return page(410, '<h1>Checkout session expired</h1>\n<p id="message">This checkout session has expired.</p>');
  }
  if (session.status === 'complete') {
    return page(
      409,
      `<h1>Already paid</h1>\n<p id="message">This checkout session is already complete (payment ${escapeHtml(session.payment_status)}).</p>`,
    );
  }
  const amount = formatAmount(session.amount_total, session.currency);
  const items = lineNames.map((name) => `<li>${escapeHtml(name)}</li>`).join('');
  const cancel = session.cancel_url ? `\n<a id="cancel" href="${escapeHtml(session.cancel_url)}">Cancel</a>` : '';
  return page(
    200,
    `<h1>Pay ${escapeHtml(amount)}</h1>\n<ul id="items">${items}</ul>\n` +
      `<p id="amount" data-amount="${session.amount_total}" data-currency="${escapeHtml(session.currency)}">${escapeHtml(amount)}</p>\n` +
      (session.customer_email ? `<p id="email">${escapeHtml(session.customer_email)}</p>\n` : '') +
      `<form method="post" action="/checkout/pay/${escapeHtml(session.id)}/complete">\n` +
      '<button id="pay" type="submit">Pay</button>\n' +
      '<button id="pay-async" type="submit" name="payment_status" value="unpaid">Pay by bank debit (settles later)</button>\n' +
      `</form>${cancel}`,
  );
}

export function checkoutPageRouter(state: FakeStripeState): Router {
  const router = Router();

  router.get('/checkout/pay/:id', (req, res) => {
    const session = state.sessions.get(req.params.id);
    const names = (state.lineItems.get(req.params.id) ?? []).map((item) => `${item.description} × ${item.quantity}`);
    const { status, html } = render(session, names);
    res.status(status).type('html').send(html);
  });

  router.post('/checkout/pay/:id/complete', (req, res) => {
    const session = state.sessions.get(req.params.id);
    if (!session || session.status !== 'open') {
      const { status, html } = render(session, []);
      res.status(status).type('html').send(html);
      return;
    }
    const form: Record<string, unknown> = isParams(req.body) ? req.body : {};
    const paymentStatus = form.payment_status === 'unpaid' ? 'unpaid' : 'paid';
    state.completeSession(session.id, paymentStatus);
    const target = (session.success_url ?? '/').replace(/\{CHECKOUT_SESSION_ID\}/g, session.id);
    res.redirect(303, target);
  });

  return router;
}
