import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = ['bullmq', 'ioredis', 'knex', 'mysql2', 'express', 'undici', 'smpp', 'pino', 'prom-client'];

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.smsfleet/**',
      'eslint.config.js',
      'vitest.config.ts',
      'services/*/public/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: ['./tsconfig.lint.json'], tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    // The domain core stays pure: no I/O module may enter it (style.md).
    files: ['packages/core/src/**/*.ts'],
    ignores: ['packages/core/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'net', 'http', 'https', 'child_process', 'dgram', 'tls'],
              message: 'packages/core is pure: no I/O modules',
            },
            {
              group: ioModules.flatMap((m) => [m, `${m}/*`]),
              message: 'packages/core is pure: no I/O modules',
            },
            { group: ['@nats-io/*'], message: 'packages/core is pure: no I/O modules' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'e2e/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
