// One lint configuration for every workspace; formatting is Prettier's job, so its conflicts are off.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/.turbo/**',
      '**/test-results/**',
      '**/test-output/**',
      '**/coverage/**',
      '**/generated/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
      // noUncheckedIndexedAccess makes typed-array reads possibly undefined; `!` is how hot loops say they are not.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The emulator is pure and deterministic (DESIGN.md): no I/O, no timers, no wall clock, no Math.random.
    files: ['packages/emulator/src/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                'node:*',
                'fs',
                'path',
                'http',
                'https',
                'net',
                'child_process',
                'worker_threads',
                'timers',
                'os',
              ],
              message: 'The emulator does no I/O.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        'Date',
        'setTimeout',
        'setInterval',
        'setImmediate',
        'queueMicrotask',
        'performance',
        'process',
        'fetch',
        'require',
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'Use the seeded Random of the system.' },
      ],
    },
  },
  prettier,
);
