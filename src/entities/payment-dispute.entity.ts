import { Entity, OptionalProps, Enum, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { DisputeState, Provider } from '../vocabulary/index.js';
import { moneyColumn } from './money-column.js';

/** A dispute (Stripe) or chargeback (Mollie) on one ledger payment, learned from the provider. */
@Entity({ tableName: 'payment_disputes' })
@Unique({ name: 'payment_disputes_provider_dispute_unique', properties: ['provider', 'providerDisputeId'] })
@Index({ name: 'payment_disputes_payment_idx', properties: ['paymentId'] })
@Index({ name: 'payment_disputes_invoice_idx', properties: ['invoiceId'] })
export class PaymentDispute {
  [OptionalProps]?: 'fundsWithdrawn' | 'fundsReinstated' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  workspaceId!: string;

  @Property({ type: 'uuid' })
  paymentId!: string;

  @Property({ type: 'uuid' })
  invoiceId!: string;

  @Enum({ items: () => Provider, type: 'text' })
  provider!: Provider;

  @Property({ type: 'text' })
  providerDisputeId!: string;

  @Property({ type: moneyColumn() })
  amountMinor!: number;

  @Property({ columnType: 'char(3)' })
  currency!: string;

  @Enum({ items: () => DisputeState, type: 'text' })
  status!: DisputeState;

  @Property({ type: 'text', nullable: true })
  reason?: string | null;

  @Property({ type: 'timestamptz', nullable: true })
  evidenceDueBy?: Date | null;

  @Property({ type: 'boolean' })
  fundsWithdrawn: boolean = false;

  @Property({ type: 'boolean' })
  fundsReinstated: boolean = false;

  /** The last provider event applied to the row. */
  @Property({ type: 'text', nullable: true })
  eventId?: string | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
