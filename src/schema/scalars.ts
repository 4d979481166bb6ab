import { GraphQLSafeInt } from 'graphql-scalars';

/** Integers within ±(2^53 − 1): every money amount in minor units. */
export const SafeInt = GraphQLSafeInt;
