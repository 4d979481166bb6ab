/** Branded customer pages. They show no workspace, invoice or amount data, whatever the link. */
const PAGES = {
  success: [
    'Payment received',
    'Thank you! Your payment was received. The invoice will show as paid within moments. You can close this page.',
  ],
  cancel: [
    'Payment cancelled',
    'No payment was made. You can go back to your invoice email and use the pay link again whenever you like.',
  ],
  too_many: [
    'Please wait a moment',
    'This payment link was opened many times in a short while. Please wait a minute, then open it again.',
  ],
  unknown: ['Payment link not found', 'This payment link does not exist. Please check the link in your invoice email.'],
  paid: ['Already paid', 'This invoice has already been paid. Thank you! There is nothing more to pay.'],
  void: [
    'Invoice cancelled',
    'This invoice has been cancelled and can no longer be paid. Please contact the sender if you think this is wrong.',
  ],
  unavailable: [
    'Online payment unavailable',
    'Online payment is not available for this invoice any more. Please contact the sender to arrange payment.',
  ],
  too_small: [
    'Online payment unavailable',
    'The remaining amount is below the minimum for a card payment. Please contact the sender to arrange payment.',
  ],
  provider_down: [
    'Payment page unavailable',
    'We could not reach the payment provider just now. Please try again in a minute.',
  ],
} as const;

export type PayPage = keyof typeof PAGES;

export function renderPayPage(kind: PayPage): string {
  const [title, message] = PAGES[kind];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>${title} · Workestra</title>
<style>body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f5f6fa;color:#1d2433;margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:40px 48px;max-width:460px;text-align:center}
.brand{font-weight:700;color:#4b5bdc;letter-spacing:.02em;margin-bottom:24px}h1{font-size:1.4rem;margin:0 0 12px}p{line-height:1.5;color:#4a5367}</style></head>
<body><main><div class="brand">Workestra</div><h1 id="title">${title}</h1><p id="message">${message}</p></main></body></html>`;
}
