// Lint for correctness, not formatting: floating promises and misused promises are the bugs that
// hurt a server most (an unhandled rejection, a request never answered).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'model-store/**', 'results/**', 'scripts/**', '**/*.mjs', '**/*.js', 'vitest.config.ts'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      'no-throw-literal': 'error',
    },
  },
  {
    // What a worker process loads must stay light: zod and yaml cost ~10 MB resident each per process
    // (docs/benchmarks.md). The archive format's zod-free part is `@model-server/archive/names`.
    files: [
      'packages/worker/src/**/*.ts',
      'packages/sdk/src/**/*.ts',
      'packages/archive/src/names.ts',
      'packages/archive/src/builtin-names.ts',
      'packages/archive/src/safe-entry-path.ts',
      'packages/archive/src/runtime-modules.ts',
      'packages/protocol/src/wire.ts',
      'packages/protocol/src/to-worker.ts',
      'packages/protocol/src/shape-checks.ts',
      'packages/protocol/src/tensors.ts',
      'packages/protocol/src/codec.ts',
      'packages/protocol/src/frame.ts',
      'packages/protocol/src/message-reader.ts',
      'packages/protocol/src/message-writer.ts',
      'packages/protocol/src/errors.ts',
    ],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@model-server/protocol', allowTypeImports: true, message: "Import values from '@model-server/protocol/wire' (no zod in workers)." },
            { name: '@model-server/archive', allowTypeImports: true, message: "Import values from '@model-server/archive/names' (no zod or yaml in workers)." },
            { name: 'zod', message: 'Not in code a worker loads (about 10 MB per process).' },
            { name: 'yaml', message: 'Not in code a worker loads: the gateway sends the parsed model config.' },
          ],
        },
      ],
    },
  },
);
