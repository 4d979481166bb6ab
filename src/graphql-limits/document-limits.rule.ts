import { Kind, type SelectionSetNode, type ValidationRule } from 'graphql';
import { fragmentMemo, fragmentsOf, INTROSPECTION_ROOTS } from './selections.js';
import { formatCount, limitError } from './limit-error.js';

interface Shape {
  depth: number;
  aliases: number;
}
const EMPTY: Shape = { depth: 0, aliases: 0 };

/**
 * Validation rule: each operation's field depth (`{ a { b } }` is 2; fragments count where they are spread) and
 * its number of aliased fields (fragments expanded) stay within the limits. It depends on the document alone, so
 * Apollo runs it once per distinct document (validated documents are cached), not per request.
 */
export function documentLimitsRule(limits: { maxDepth: number; maxAliases: number }): ValidationRule {
  return (context) => {
    const fragments = fragmentsOf(context.getDocument());
    const spread = fragmentMemo(fragments, (fragment) => measure(fragment.selectionSet), EMPTY);
    function measure(selectionSet: SelectionSetNode): Shape {
      let depth = 0;
      let aliases = 0;
      for (const selection of selectionSet.selections) {
        let inner: Shape;
        if (selection.kind === Kind.FIELD) {
          if (INTROSPECTION_ROOTS.has(selection.name.value)) continue;
          const child = selection.selectionSet ? measure(selection.selectionSet) : EMPTY;
          inner = { depth: child.depth + 1, aliases: child.aliases + (selection.alias ? 1 : 0) };
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          inner = measure(selection.selectionSet);
        } else {
          inner = spread(selection.name.value);
        }
        depth = Math.max(depth, inner.depth);
        aliases += inner.aliases;
      }
      return { depth, aliases };
    }

    return {
      OperationDefinition(operation) {
        const { depth, aliases } = measure(operation.selectionSet);
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
        return false;
      },
    };
  };
}
