import { Entity, OptionalProps, Enum, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { LedgerStatus, Provider } from '../vocabulary/index.js';
import { moneyColumn } from './money-column.js';

/** One row per provider payment (a hosted checkout at the provider): the invoice's payment ledger. */
@Entity({ tableName: 'invoice_payments' })
@Unique({ name: 'invoice_payments_provider_reference_unique', properties: ['provider', 'providerReference'] })
@Index({ name: 'invoice_payments_invoice_idx', properties: ['invoiceId', 'createdAt'] })
@Index({ name: 'invoice_payments_workspace_idx', properties: ['workspaceId'] })
export class InvoicePayment {
  [OptionalProps]?: 'refundedMinor' | 'disputedMinor' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  workspaceId!: string;

  /** Not a foreign key: `invoices` belongs to the Invoices service and an event may precede its invoice. */
  @Property({ type: 'uuid' })
  invoiceId!: string;

  @Enum({ items: () => Provider, type: 'text' })
  provider!: Provider;

  /** The hosted checkout's id at the provider (`cs_…`, `tr_…`). */
  @Property({ type: 'text' })
  providerReference!: string;

  /** The provider's id of the payment behind the checkout (`pi_…`), needed for refunds; null until known. */
  @Property({ type: 'text', nullable: true })
  providerPaymentId?: string | null;

  /** Id of the last provider event applied to this row. */
  @Property({ type: 'text', nullable: true })
  eventId?: string | null;

  @Enum({ items: () => LedgerStatus, type: 'text' })
  status!: LedgerStatus;

  @Property({ type: moneyColumn() })
  amountMinor!: number;

  /** Σ succeeded refunds, kept in step with `payment_refunds` by the settlement unit of work. */
  @Property({ type: moneyColumn(), default: 0 })
  refundedMinor: number = 0;

  /** Σ funds withdrawn by disputes and not reinstated, kept in step with `payment_disputes` by settlement. */
  @Property({ type: moneyColumn(), default: 0 })
  disputedMinor: number = 0;

  @Property({ columnType: 'char(3)' })
  currency!: string;

  @Property({ type: 'uuid', nullable: true })
  payLinkId?: string | null;

  @Property({ type: 'text', nullable: true })
  checkoutUrl?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  expiresAt?: Date | null;

  @Property({ type: 'timestamptz', nullable: true })
  paidAt?: Date | null;

  /** The reconciler could not resolve this PENDING row: it asks again only after this. */
  @Property({ type: 'timestamptz', nullable: true })
  reconcileAfter?: Date | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
