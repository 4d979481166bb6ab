import { Entity, OptionalProps, Index, PrimaryKey, Property, Unique } from '@mikro-orm/core';
import { moneyColumn } from './money-column.js';

/**
 * A customer pay link. `amountMinor` null is the invoice's full-balance link (one per invoice, for its
 * life); a set amount is a partial (deposit) link, one per invoice and amount.
 */
@Entity({ tableName: 'pay_links' })
@Unique({ name: 'pay_links_token_unique', properties: ['token'] })
@Index({ name: 'pay_links_invoice_idx', properties: ['invoiceId'] })
export class PayLink {
  [OptionalProps]?: 'sessionGeneration' | 'createdAt';

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  /** Random 192-bit base64url token. */
  @Property({ type: 'text' })
  token!: string;

  @Property({ type: 'uuid' })
  workspaceId!: string;

  @Property({ type: 'uuid' })
  invoiceId!: string;

  @Property({ type: moneyColumn(), nullable: true })
  amountMinor?: number | null;

  /** Bumped whenever a new checkout session must be created; part of the provider Idempotency-Key. */
  @Property({ type: 'int', default: 0 })
  sessionGeneration: number = 0;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();
}
