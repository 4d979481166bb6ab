import { BigIntType } from '@mikro-orm/core';

/**
 * A bigint column mapped to a JS number that refuses, in both directions, any value a number cannot hold exactly:
 * `BigIntType('number')` alone would round 2^53 + 1 to 2^53 without a word, and a ledger must never round a cent.
 */
export class SafeBigIntType extends BigIntType<'number'> {
  constructor() {
    super('number');
  }

  override convertToDatabaseValue(value: number | null | undefined): string | null | undefined {
    if (value === null || value === undefined) return value;
    if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
      throw new RangeError(
        `money value ${String(value)} is not a safe integer; refusing to store it in a bigint column`,
      );
    }
    return String(value);
  }

  override convertToJSValue(value: string | bigint | null | undefined): number | null | undefined {
    if (value === null || value === undefined) return value;
    const exact = BigInt(String(value));
    if (exact > BigInt(Number.MAX_SAFE_INTEGER) || exact < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new RangeError(
        `bigint value ${exact} read from the database is outside the safe integer range (±${Number.MAX_SAFE_INTEGER}); refusing to round it`,
      );
    }
    return Number(exact);
  }
}

/** Money columns are bigint minor units, read and written as exact JS numbers (SafeBigIntType). */
export const moneyColumn = () => new SafeBigIntType();
