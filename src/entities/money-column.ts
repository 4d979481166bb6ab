import { BigIntType } from '@mikro-orm/core';

/**
 * Money columns are bigint minor units. They map to JS numbers: every amount we accept is validated as a
 * safe integer (GraphQL SafeInt), so the conversion never loses a cent.
 */
export const moneyColumn = () => new BigIntType('number');
