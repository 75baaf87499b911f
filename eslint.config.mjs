// ESLint for the TypeScript in app/, tests/ and bench/, with type information (the
// rules that need it catch promises nobody awaits and async functions passed where a
// callback's result is ignored). Layers are checked by dependency-cruiser
// (.dependency-cruiser.cjs); `npm run lint` runs both.
import js from '@eslint/js';
import globals from 'globals';
import comments from '@eslint-community/eslint-plugin-eslint-comments/configs';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'bench/data/**', 'node_modules/**', 'coverage/**', 'iisnode/**', 'App_Data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  comments.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // An exemption must say why.
      '@eslint-community/eslint-comments/require-description': ['error', { ignore: [] }],
      '@eslint-community/eslint-comments/no-unlimited-disable': 'error',
      // Fakes and interface implementations are async without awaiting; a missing await
      // where it matters is no-floating-promises' job.
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' }],
    },
  },
  {
    // Only app/db/ knows which engine is underneath: everything else asks db/ (paged,
    // insertReturningId, ticketTextMatch …) instead of branching on a dialect's name.
    files: ['app/**/*.ts'],
    ignores: ['app/db/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: 'Literal[value=/^(sqlite|mssql)$/i]', message: 'Only app/db/ names a database dialect; add a named helper there.' },
        { selector: "BinaryExpression[operator=/^[!=]==?$/] > MemberExpression.left[property.name='dialect']", message: 'Only app/db/ branches on the dialect; add a named helper there.' },
      ],
    },
  },
  {
    // db/ is generic over table shapes: Kysely's own signatures take Kysely<any> and
    // SelectQueryBuilder<any, any, any> for "any database", and so do the helpers that
    // wrap them (paged, firstOnly, the migrator, the SQL Server driver).
    files: ['app/db/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests read JSON bodies and parsed XML, which are untyped by nature.
    files: ['tests/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  { files: ['**/*.js', '**/*.cjs', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    // Configuration, jest hooks and test helpers that node runs as CommonJS.
    files: ['**/*.js', '**/*.cjs'],
    ignores: ['public/**'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The one progressive-enhancement script: ES5 for Edge's IE mode, run by browsers.
    files: ['public/**/*.js'],
    languageOptions: { ecmaVersion: 5, sourceType: 'script', globals: globals.browser },
  },
);
