/** Longest refund reason (it is also sent as provider metadata, which providers cap at 500 characters). */
export const MAX_REFUND_REASON = 500;
