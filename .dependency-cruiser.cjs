// The import rule (docs/development.md): layers only point down, no cycles, `verify/` imports
// nothing of the server, `model/` nothing but itself. `npm run depcheck`; .ci/run runs it.
/** Bottom to top: a module may import its own layer and the ones below it, never one above. */
const LAYERS = [
  ['model', 'observability', 'web'],
  ['config'],
  ['store'],
  ['security', 'keys', 'audit', 'catalog', 'roles', 'mail'],
  ['connectors'],
  ['login', 'oidc', 'account'],
  ['interactions', 'admin'],
  ['http'],
  ['app.ts', 'main.ts', 'cli'],
];
const path = (names) => `^src/(${names.map((name) => name.replace('.', '\\.')).join('|')})(/|$)`;

const upward = LAYERS.slice(0, -1).map((layer, index) => ({
  name: `layer-${layer.join('-')}`,
  comment: `${layer.join(', ')} must not import a layer above it`,
  severity: 'error',
  from: { path: path(layer) },
  to: { path: path(LAYERS.slice(index + 1).flat()) },
}));

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'verify-stands-alone',
      comment: 'lock/verify ships to downstream APIs: it imports nothing of the server',
      severity: 'error',
      from: { path: '^src/verify/' },
      to: { path: '^src/', pathNot: '^src/verify/' },
    },
    {
      name: 'model-stands-alone',
      severity: 'error',
      from: { path: '^src/model/' },
      to: { path: '^src/', pathNot: '^src/model/' },
    },
    {
      name: 'every-folder-has-a-layer',
      comment: 'a new folder under src/ is given its place in LAYERS',
      severity: 'error',
      from: { path: '^src/', pathNot: path([...LAYERS.flat(), 'verify']) },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|test|bench|examples)/' },
    parser: 'swc',
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
