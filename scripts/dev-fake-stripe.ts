import { parseArgs } from 'node:util';
import { startFakeStripe } from '../test/fakes/stripe/fake-stripe.server.js';

/**
 * `npm run dev:fake-stripe -- [--port 12111] [--service http://127.0.0.1:4001]`: the tests' fake Stripe as a
 * standalone dev server. Start the service with the STRIPE_API_URL it prints; the fake delivers the webhooks of
 * payments made on its checkout page to `--service`. Ctrl-C stops it. Dev only: it accepts any `sk_test_` key.
 */
async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '12111' },
      service: { type: 'string', default: `http://127.0.0.1:${process.env.PORT || 4001}` },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log('usage: npm run dev:fake-stripe -- [--port 12111] [--service http://127.0.0.1:4001]');
    return;
  }
  const stripe = await startFakeStripe({ port: Number(values.port) });
  stripe.autoDeliver = { baseUrl: values.service };
  console.log(`STRIPE_API_URL=${stripe.url}`);
  console.error(`fake Stripe listening; webhooks go to ${values.service} (Ctrl-C stops it)`);
  const stop = () => void stripe.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`dev:fake-stripe: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
