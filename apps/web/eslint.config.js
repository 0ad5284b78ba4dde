// The repository's lint configuration, plus Svelte components (eslint-plugin-svelte) and browser globals.
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import root from '../../eslint.config.js';
import svelteConfig from './svelte.config.js';

export default tseslint.config(
  ...root,
  ...svelte.configs.recommended,
  {
    files: ['src/**/*.{ts,svelte}'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: {
        parser: tseslint.parser,
        extraFileExtensions: ['.svelte'],
        svelteConfig,
      },
    },
  },
  ...svelte.configs.prettier,
);
