import { Kind, type DocumentNode, type FragmentDefinitionNode } from 'graphql';

/** Introspection entry points: their nesting follows the type system, so cost bounds them rather than depth. */
export const INTROSPECTION_ROOTS = new Set(['__schema', '__type']);

/** The document's fragments by name. */
export const fragmentsOf = (document: DocumentNode): Map<string, FragmentDefinitionNode> =>
  new Map(
    document.definitions
      .filter((definition): definition is FragmentDefinitionNode => definition.kind === Kind.FRAGMENT_DEFINITION)
      .map((fragment) => [fragment.name.value, fragment]),
  );

/**
 * Memoizes a per-fragment measurement: each named fragment is measured once however often it is spread (a document
 * spreading fragments exponentially is measured in linear time), and a fragment cycle measures as `empty`
 * (graphql-js's NoFragmentCycles rule reports it).
 */
export function fragmentMemo<T>(
  fragments: Map<string, FragmentDefinitionNode>,
  measure: (fragment: FragmentDefinitionNode) => T,
  empty: T,
) {
  const memo = new Map<string, T>();
  const active = new Set<string>();
  return (name: string): T => {
    const known = memo.get(name);
    if (known !== undefined) return known;
    const fragment = fragments.get(name);
    if (!fragment || active.has(name)) return empty;
    active.add(name);
    const value = measure(fragment);
    active.delete(name);
    memo.set(name, value);
    return value;
  };
}
