import { parseArgs } from 'node:util';
import { Client } from 'pg';
import { loadConfig } from '../src/config.js';
import { insertSentInvoice, toPgPlaceholders } from './playground.js';

/**
 * `npm run dev:invoice -- --workspace <uuid> [--total 12000] [--currency EUR] [--number INV-1001]`: inserts a sent
 * invoice into DATABASE_URL (the local service's database; `npm start` creates its tables) and prints its id. Dev only.
 */
async function main() {
  const { values } = parseArgs({
    options: {
      workspace: { type: 'string' },
      total: { type: 'string', default: '12000' },
      currency: { type: 'string', default: 'EUR' },
      number: { type: 'string' },
      email: { type: 'string', default: 'payer@example.com' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help || !values.workspace) {
    console.log(
      'usage: npm run dev:invoice -- --workspace <uuid> [--total <minor units>] [--currency EUR] [--number INV-1001] [--email …]',
    );
    process.exit(values.help ? 0 : 2);
  }
  if (!/^\d+$/.test(values.total)) throw new Error('--total is an amount in minor units, e.g. 12000 for 120.00 EUR');
  const client = new Client({ connectionString: loadConfig(process.env, []).databaseUrl });
  await client.connect();
  try {
    const invoice = await insertSentInvoice((sql, params) => client.query(toPgPlaceholders(sql), params), {
      workspaceId: values.workspace.toLowerCase(),
      totalMinor: Number(values.total),
      currency: values.currency.toUpperCase(),
      number: values.number,
      customerEmail: values.email,
    });
    console.log(invoice.id);
    console.error(
      `sent invoice ${invoice.number} for ${invoice.totalMinor} ${invoice.currency} minor units in workspace ${invoice.workspaceId}`,
    );
  } catch (error) {
    if ((error as { code?: string }).code === '42P01')
      throw new Error('there is no invoices table yet: run `npm start` once (it migrates the database)', {
        cause: error,
      });
    throw error;
  } finally {
    await client.end();
  }
}

main().catch((error: unknown) => {
  console.error(`dev:invoice: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
