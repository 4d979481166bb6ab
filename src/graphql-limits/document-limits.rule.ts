import { Kind, type SelectionSetNode, type ValidationRule } from 'graphql';
import { fragmentMemo, fragmentsOf, INTROSPECTION_ROOTS } from './selections.js';
import { formatCount, limitError } from './limit-error.js';

interface Shape {
  depth: number;
  aliases: number;
  /** Fields of this selection set itself (fragments expanded, not nested fields): root mutation fields at the root. */
  fields: number;
}
const EMPTY: Shape = { depth: 0, aliases: 0, fields: 0 };

/**
 * Validation rule: each operation's field depth (`{ a { b } }` is 2; fragments count where they are spread), its
 * number of aliased fields (fragments expanded) and, for a mutation, its number of root fields (aliases included,
 * fragments expanded: each one is a write and usually a provider call) stay within the limits. It depends on the document alone, so
 * Apollo runs it once per distinct document (validated documents are cached), not per request.
 */
export function documentLimitsRule(limits: {
  maxDepth: number;
  maxAliases: number;
  maxMutations: number;
}): ValidationRule {
  return (context) => {
    const fragments = fragmentsOf(context.getDocument());
    const spread = fragmentMemo(fragments, (fragment) => measure(fragment.selectionSet), EMPTY);
    function measure(selectionSet: SelectionSetNode): Shape {
      let depth = 0;
      let aliases = 0;
      let fields = 0;
      for (const selection of selectionSet.selections) {
        let inner: Shape;
        if (selection.kind === Kind.FIELD) {
          if (INTROSPECTION_ROOTS.has(selection.name.value)) continue;
          const child = selection.selectionSet ? measure(selection.selectionSet) : EMPTY;
          inner = {
            depth: child.depth + 1,
            aliases: child.aliases + (selection.alias ? 1 : 0),
            fields: selection.name.value.startsWith('__') ? 0 : 1,
          };
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          inner = measure(selection.selectionSet);
        } else {
          inner = spread(selection.name.value);
        }
        depth = Math.max(depth, inner.depth);
        aliases += inner.aliases;
        fields += inner.fields;
      }
      return { depth, aliases, fields };
    }

    return {
      OperationDefinition(operation) {
        const { depth, aliases, fields } = measure(operation.selectionSet);
        const name = operation.name ? `Operation "${operation.name.value}"` : 'The operation';
        if (depth > limits.maxDepth) {
          context.reportError(
            limitError(
              `${name} is nested ${formatCount(depth)} levels deep; the maximum query depth is ${formatCount(limits.maxDepth)}.`,
              operation,
            ),
          );
        }
        if (aliases > limits.maxAliases) {
          context.reportError(
            limitError(
              `${name} uses ${formatCount(aliases)} aliased fields; at most ${formatCount(limits.maxAliases)} aliases are allowed.`,
              operation,
            ),
          );
        }
        if (operation.operation === 'mutation' && fields > limits.maxMutations) {
          context.reportError(
            limitError(
              `${name} runs ${formatCount(fields)} mutations; at most ${formatCount(limits.maxMutations)} mutation fields are allowed per operation.`,
              operation,
            ),
          );
        }
        return false;
      },
    };
  };
}
