/**
 * The metadata this service puts on every provider object it creates, and reads back from the provider's events:
 * how an event finds its workspace, invoice and our own refund row. Both adapters write and read it only here.
 */
const KEYS = {
  workspaceId: 'workspace_id',
  invoiceId: 'invoice_id',
  payLinkId: 'pay_link_id',
  localRefundId: 'workestra_refund_id',
} as const;

/** What our metadata says (any part may be missing on objects created elsewhere, e.g. in a provider dashboard). */
export interface OurMetadata {
  workspaceId?: string | null;
  invoiceId?: string | null;
  payLinkId?: string | null;
  localRefundId?: string | null;
}

/** Metadata for a provider object: string values only, missing parts left out. */
export function writeMetadata(values: OurMetadata): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const [field, key] of Object.entries(KEYS) as Array<[keyof OurMetadata, string]>) {
    const value = values[field];
    if (value) metadata[key] = value;
  }
  return metadata;
}

/** Reads our metadata back from a provider object's (untrusted) metadata. */
export function readMetadata(metadata: unknown): Required<{ [K in keyof OurMetadata]: string | null }> {
  const source = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : {};
  const read = (key: string) =>
    typeof source[key] === 'string' && source[key] !== '' ? (source[key] as string) : null;
  return {
    workspaceId: read(KEYS.workspaceId),
    invoiceId: read(KEYS.invoiceId),
    payLinkId: read(KEYS.payLinkId),
    localRefundId: read(KEYS.localRefundId),
  };
}
