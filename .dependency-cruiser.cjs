/**
 * The layers of app/, lowest first. A module may import from its own layer and the
 * ones below it, never from a layer above: docs/architecture.md draws the same picture.
 * `npm run lint` (and so `npm test`) fails on a violation, a cycle, or a database
 * driver named outside app/db.
 */
const LAYERS = [
  // Foundation: single files with no app imports of their own kind above them.
  { name: 'foundation', path: '^app/(paths|secret|signing|deadline|logging|login)\\.ts$' },
  { name: 'db', path: '^app/db/' },
  { name: 'storage', path: '^app/storage/' },
  { name: 'directory', path: '^app/directory/' },
  { name: 'config', path: '^app/config/' },
  { name: 'people', path: '^app/people/' },
  { name: 'identity', path: '^app/identity/' },
  { name: 'session', path: '^app/session/' },
  { name: 'access', path: '^app/access/' },
  { name: 'web', path: '^app/web/' },
  { name: 'features', path: '^app/features/' },
  { name: 'entry', path: '^app/(app|compose|server)\\.ts$|^app/cli/' },
];

const upward = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1);
  if (!above.length) return [];
  return [
    {
      name: `no-upward-from-${layer.name}`,
      comment: `${layer.name} may import only from itself and the layers below it (${LAYERS.slice(0, i).map((l) => l.name).join(', ') || 'none'}).`,
      severity: 'error',
      from: { path: layer.path },
      to: { path: above.map((l) => l.path) },
    },
  ];
});

module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'no-circular',
      comment: 'Modules must not depend on each other in a circle, not even through type imports.',
      severity: 'error',
      from: { path: '^app/' },
      to: { circular: true },
    },
    {
      name: 'only-db-names-a-driver',
      comment: 'app/db/ is the only place that knows which database engine is underneath.',
      severity: 'error',
      from: { path: '^app/', pathNot: '^app/db/' },
      to: { path: '^node_modules/(better-sqlite3|mssql|tedious|msnodesqlv8)/' },
    },
    {
      name: 'app-never-imports-tests',
      severity: 'error',
      from: { path: '^app/' },
      to: { path: '^(tests|bench)/' },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that resolves to nothing is a typo or a missing dependency.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
