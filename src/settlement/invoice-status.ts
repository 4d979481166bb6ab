import { InvoiceStatus } from '../entities/index.js';

/**
 * The settlement rule (DESIGN.md): paid ≥ total → paid; 0 < paid < total → partial; otherwise sent, or overdue
 * when the due date (a calendar date) is before today in UTC. Draft and void invoices keep their status.
 */
export function nextInvoiceStatus(current: string, totalMinor: number, paidMinor: number, dueDate: string | null | undefined, now = new Date()): string {
  if (current === InvoiceStatus.DRAFT || current === InvoiceStatus.VOID) return current;
  if (paidMinor >= totalMinor && paidMinor > 0) return InvoiceStatus.PAID;
  if (paidMinor > 0) return InvoiceStatus.PARTIAL;
  const today = now.toISOString().slice(0, 10);
  return dueDate && dueDate < today ? InvoiceStatus.OVERDUE : InvoiceStatus.SENT;
}
