import { dirname, relative, resolve } from 'node:path';

/**
 * The layering rule of src/ (README "Architecture"): imports run one way, from a layer to a lower one.
 * A unit is the first folder under src/ (or a top-level file). Units of one layer never import each other.
 */
export const LAYERS = [
  ['main'],
  ['service', 'cli'],
  ['http', 'consumers', 'graphql'],
  ['resolvers'],
  ['schema'],
  ['services'],
  ['settlement'],
  ['providers', 'db', 'jetstream'],
  ['entities', 'migrations'],
  ['graphql-limits'],
  ['config', 'auth', 'observability', 'background'],
  ['crypto'],
  ['vocabulary', 'errors', 'uuid', 'money'],
];

const layerOf = new Map(LAYERS.flatMap((units, index) => units.map((unit) => [unit, index])));

function unitOf(srcDir, file) {
  const parts = relative(srcDir, file).split('/');
  if (parts[0] === '..') return null;
  return parts.length > 1 ? parts[0] : parts[0].replace(/\.[cm]?[jt]s$/, '');
}

/** ESLint rule `layers/one-way`. */
const oneWay = {
  meta: {
    type: 'problem',
    docs: { description: 'imports in src/ run from a layer to a lower one (README "Architecture")' },
    schema: [],
  },
  create(context) {
    const file = context.filename;
    const srcDir = resolve(context.cwd, 'src');
    const from = unitOf(srcDir, file);
    if (from === null) return {};
    const check = (node, source) => {
      if (!source || typeof source.value !== 'string' || !source.value.startsWith('.')) return;
      const to = unitOf(srcDir, resolve(dirname(file), source.value));
      if (to === null || to === from) return;
      const a = layerOf.get(from);
      const b = layerOf.get(to);
      if (a === undefined)
        return context.report({ node, message: `src/${from} is in no layer: add it to tools/eslint-layers.mjs` });
      if (b === undefined)
        return context.report({ node, message: `src/${to} is in no layer: add it to tools/eslint-layers.mjs` });
      if (b <= a) {
        context.report({
          node,
          message: `src/${from} (layer ${a}) must not import src/${to} (layer ${b}): imports run down the layers (README "Architecture")`,
        });
      }
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source),
    };
  },
};

export default { rules: { 'one-way': oneWay } };
