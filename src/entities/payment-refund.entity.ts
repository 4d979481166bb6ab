import { Entity, OptionalProps, Enum, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { RefundState, Provider } from '../vocabulary/index.js';
import { moneyColumn } from './money-column.js';

/** A refund of one ledger payment, made through the API or learned from a provider webhook. */
@Entity({ tableName: 'payment_refunds' })
@Unique({ name: 'payment_refunds_provider_refund_unique', properties: ['provider', 'providerRefundId'] })
@Unique({ name: 'payment_refunds_idempotency_unique', properties: ['workspaceId', 'idempotencyKey'] })
@Index({ name: 'payment_refunds_payment_idx', properties: ['paymentId'] })
export class PaymentRefund {
  [OptionalProps]?: 'createdAt' | 'updatedAt';

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

  @Property({ type: 'text', nullable: true })
  providerRefundId?: string | null;

  @Property({ type: moneyColumn() })
  amountMinor!: number;

  @Property({ columnType: 'char(3)' })
  currency!: string;

  @Enum({ items: () => RefundState, type: 'text' })
  status!: RefundState;

  @Property({ type: 'text', nullable: true })
  reason?: string | null;

  /** The client's key (scoped to the workspace); null for refunds learned from webhooks. */
  @Property({ type: 'text', nullable: true })
  idempotencyKey?: string | null;

  @Property({ type: 'uuid', nullable: true })
  requestedBy?: string | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
