import { AuditLog } from './audit-log.entity.js';
import { Invoice } from './invoice.entity.js';
import { InvoicePayment } from './invoice-payment.entity.js';
import { PayLink } from './pay-link.entity.js';
import { PaymentDispute } from './payment-dispute.entity.js';
import { PaymentProviderAccount } from './payment-provider-account.entity.js';
import { PaymentRefund } from './payment-refund.entity.js';
import { WebhookEvent } from './webhook-event.entity.js';

export * from './audit-log.entity.js';
export * from './invoice.entity.js';
export * from './invoice-payment.entity.js';
export * from './pay-link.entity.js';
export * from './payment-dispute.entity.js';
export * from './payment-provider-account.entity.js';
export * from './payment-refund.entity.js';
export * from './webhook-event.entity.js';

/** Every entity, for the ORM configuration. */
export const entities = [
  Invoice,
  InvoicePayment,
  PaymentRefund,
  PaymentDispute,
  PaymentProviderAccount,
  WebhookEvent,
  AuditLog,
  PayLink,
];
