/**
 * The hosted checkout page a payment's `_links.checkout` points to. "Pay" and "Fail" settle the
 * payment and 303 to `redirectUrl`; cancelling marks it canceled and 303s to `cancelUrl` (Mollie
 * falls back to `redirectUrl` without one). Each outcome calls the payment's webhook.
 */
import { Router } from 'express';
import type { FakeMollieState } from './fake-mollie.state';
import type { FakePayment, PaymentStatus } from './fake-mollie.types';
import { escapeHtml } from './fake-mollie.util';

function page(status: number, body: string): { status: number; html: string } {
  const html =
    '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8"><title>Fake Mollie Checkout</title></head>\n' +
    `<body>\n${body}\n</body>\n</html>\n`;
  return { status, html };
}

function render(payment: FakePayment | undefined): { status: number; html: string } {
  if (!payment) return page(404, '<h1>Payment not found</h1>\n<p id="message">This checkout link is invalid.</p>');
  if (payment.status === 'paid')
    return page(409, '<h1>Already paid</h1>\n<p id="message">This payment has already been paid.</p>');
  if (payment.status !== 'open') {
    return page(
      410,
      `<h1>Payment ${escapeHtml(payment.status)}</h1>\n<p id="message">This payment is ${escapeHtml(payment.status)}.</p>`,
    );
  }
  const amount = `${payment.amount.value} ${payment.amount.currency}`;
  const base = `/checkout/mollie/${encodeURIComponent(payment.id)}`;
  const leave = payment.cancelUrl ?? payment.redirectUrl ?? '/';
  return page(
    200,
    `<h1>${escapeHtml(payment.description)}</h1>\n` +
      `<p id="amount" data-value="${escapeHtml(payment.amount.value)}" data-currency="${escapeHtml(payment.amount.currency)}">${escapeHtml(amount)}</p>\n` +
      `<form method="post" action="${base}/pay"><button id="pay" type="submit">Pay</button></form>\n` +
      `<form method="post" action="${base}/fail"><button id="fail" type="submit">Fail</button></form>\n` +
      `<form method="post" action="${base}/cancel"><button id="cancel-payment" type="submit">Cancel payment</button></form>\n` +
      `<a id="cancel" href="${escapeHtml(leave)}">Cancel</a>`,
  );
}

const OUTCOMES: Readonly<Record<string, PaymentStatus>> = { pay: 'paid', fail: 'failed', cancel: 'canceled' };

export function checkoutPageRouter(state: FakeMollieState): Router {
  const router = Router();

  router.get('/checkout/mollie/:id', (req, res) => {
    const { status, html } = render(state.payments.get(req.params.id));
    res.status(status).type('html').send(html);
  });

  router.post('/checkout/mollie/:id/:action', (req, res, next) => {
    const outcome = OUTCOMES[req.params.action];
    if (outcome === undefined) return next();
    const payment = state.payments.get(req.params.id);
    if (!payment || payment.status !== 'open') {
      const { status, html } = render(payment);
      res.status(status).type('html').send(html);
      return;
    }
    state.setStatus(payment.id, outcome);
    const target = outcome === 'canceled' ? (payment.cancelUrl ?? payment.redirectUrl) : payment.redirectUrl;
    res.redirect(303, target ?? '/');
  });

  return router;
}
