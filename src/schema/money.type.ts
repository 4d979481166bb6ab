import { Field, ObjectType } from 'type-graphql';
import { formatMinor } from '../money/money.js';
import { SafeInt } from './scalars.js';

@ObjectType({ description: 'An amount of money in one currency.' })
export class Money {
  @Field(() => SafeInt, {
    description: "The amount in the currency's minor units (cents; yen for JPY; fils for KWD). Never negative.",
  })
  amountMinor!: number;

  @Field(() => String, { description: 'Upper-case ISO 4217 currency code, e.g. "EUR".' })
  currency!: string;

  @Field(() => String, {
    description:
      'The amount as a decimal string with the currency\'s exponent, e.g. "12.50", "1500" (JPY), "1.250" (KWD).',
  })
  amount!: string;

  static of(amountMinor: number, currency: string): Money {
    const money = new Money();
    money.amountMinor = amountMinor;
    money.currency = currency.trim().toUpperCase();
    money.amount = formatMinor(amountMinor, money.currency);
    return money;
  }
}
