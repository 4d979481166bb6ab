import { Entity, OptionalProps, Enum, Index, PrimaryKey, Property } from '@mikro-orm/core';
import { InvoiceStatus } from '../vocabulary/index.js';
import { moneyColumn } from './money-column.js';

/** Invoice lifecycle states, owned by the Invoices service; payments only move sent/overdue/partial/paid. */
/** The `invoices` table shared with the Invoices service (exactly the columns docs/contract.md "Data" names). */
@Entity({ tableName: 'invoices' })
@Index({ properties: ['workspaceId'] })
export class Invoice {
  [OptionalProps]?: 'paidMinor' | 'createdAt' | 'updatedAt';

  @PrimaryKey({ type: 'uuid' })
  id!: string;

  @Property({ type: 'uuid' })
  workspaceId!: string;

  @Property({ type: 'text' })
  number!: string;

  @Enum({ items: () => InvoiceStatus, type: 'text' })
  status!: InvoiceStatus;

  @Property({ columnType: 'char(3)' })
  currency!: string;

  @Property({ type: moneyColumn() })
  totalMinor!: number;

  @Property({ type: moneyColumn(), default: 0 })
  paidMinor: number = 0;

  @Property({ type: 'date', nullable: true })
  dueDate?: string | null;

  @Property({ type: 'text', nullable: true })
  customerEmail?: string | null;

  @Property({ type: 'text', nullable: true })
  customerName?: string | null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
