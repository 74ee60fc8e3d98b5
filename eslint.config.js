// ESLint (flat config): only the rules the type checker does not cover and the project asks for —
// import cycles, floating promises, build-time-only imports. Formatting is prettier's, types are
// tsc's, unused exports, files and dependencies knip's (`pnpm lint` runs them all).
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'bench/out/**', 'packages/iot-module/templates/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: {
      // import-x follows only the extensions it is told to parse: without these, .ts files are skipped
      // and no cycle is ever found.
      'import-x/extensions': ['.ts', '.js'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })],
    },
    rules: {
      // node:test's test()/describe() return promises the runner awaits itself.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] },
          ],
        },
      ],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // The config schema is written with TypeBox and compiled to plain data at build time
    // (scripts/config-schema.mjs): at run time the engine must load neither.
    files: ['packages/*/src/**/*.ts'],
    ignores: ['packages/core/src/config/schema.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@sinclair/typebox', allowTypeImports: true, message: 'build time only' }],
          patterns: [
            {
              group: ['**/config/schema.js', './schema.js'],
              allowTypeImports: true,
              message: 'build time only',
            },
          ],
        },
      ],
    },
  },
);
