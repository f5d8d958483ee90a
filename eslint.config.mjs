// ESLint 9 flat config. typescript-eslint `recommended` (not type-checked, to stay fast;
// `tsc --noEmit` in `npm run lint` does the type checking) plus the import boundaries of
// style.md 2.4: lib/ is the core and knows nothing of exporters or metrics libraries;
// exporters use lib's public API only, never lib/internal.

import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores([
    'dist/',
    'build/',
    'node_modules/',
    '.tap/',
    'coverage/',
    'docs/',
    'tap-snapshots/',
    'bench-results/',
  ]),

  js.configs.recommended,
  tseslint.configs.recommended,

  {
    name: 'project/all-files',
    rules: {
      // Public entry points list their exports by name (OTel bans `export *` the same way).
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ExportAllDeclaration',
          message: 'Use explicit named exports instead of `export *`.',
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },

  {
    name: 'project/lib-boundaries',
    files: ['lib/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(prom-client|@opentelemetry/)',
              message: 'lib/ must not depend on metrics libraries; that belongs in exporters/.',
            },
            {
              regex: '(^|/)exporters(/|$)',
              message: 'lib/ must not import from exporters/ (exporters depend on lib, not back).',
            },
          ],
        },
      ],
    },
  },

  {
    name: 'project/exporters-boundaries',
    files: ['exporters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)lib/internal(/|$)',
              message: 'exporters/ use the public API of lib/ (lib/index.js), not lib/internal.',
            },
          ],
        },
      ],
    },
  },

  {
    name: 'project/node-scripts',
    files: ['**/*.{js,mjs,cjs}'],
    languageOptions: {
      globals: { ...globals.node },
    },
  },

  {
    // Static dashboard script served to the browser (exporters/http/dashboard.js).
    name: 'project/browser-assets',
    files: ['exporters/**/*.js'],
    languageOptions: {
      globals: { ...globals.browser },
    },
  },
);
