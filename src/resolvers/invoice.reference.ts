import type { Invoice } from '../entities/index.js';
import { requireAuth, type GraphQLContext } from './context.js';

/**
 * Federation entity resolution. Another workspace's (or an unknown) invoice resolves to null with no error,
 * so nothing about it leaks; batching through the DataLoader keeps 100 references to one SQL statement.
 */
export async function resolveInvoiceReference(
  reference: { id: string },
  context: GraphQLContext,
): Promise<Invoice | null> {
  requireAuth(context, 'read');
  return context.loaders().invoice.load(String(reference.id));
}
