import { Directive, Field, ID, ObjectType } from 'type-graphql';

/**
 * The Invoices subgraph owns Invoice; this subgraph contributes payment fields to it.
 * The fields below `id` are field resolvers in src/resolvers/invoice.resolver.ts.
 */
@Directive('@key(fields: "id")')
@ObjectType({ description: 'An invoice (owned by the Invoices service) with its payment information.' })
export class Invoice {
  @Field(() => ID, { description: 'Invoice id.' })
  id!: string;
}
