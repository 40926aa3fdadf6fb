import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'dist-ts/**', 'native/*/build/**', 'test/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      // Native addons and optional modules (uiohook, dbus, the bridge) are loaded lazily with require on purpose:
      // a missing one must cost only the feature that needs it.
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // electron/common runs anywhere (the renderer, the guest, the sandboxed preload): no Node globals either.
    files: [
      'electron/common/**/*.ts',
      'electron/electron-sandbox/**/*.ts',
      'renderer/src/**/*.{ts,tsx}',
      'guest/src/**/*.ts',
    ],
    rules: {
      'no-restricted-globals': [
        'error',
        ...['process', 'Buffer', '__dirname', '__filename', 'require', 'module', 'global', 'setImmediate'].map(
          (name) => ({
            name,
            message: `${name} is Node's; this folder runs in a browser or anywhere (see electron/README.md)`,
          }),
        ),
      ],
    },
  },
  {
    // Build hooks run in Node as CommonJS (electron-builder loads them with require).
    files: ['build/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  {
    files: ['build/**/*.mjs', 'test/**/*.mjs', 'eslint.config.mjs', '.dependency-cruiser.cjs'],
    languageOptions: { globals: globals.node },
  },
  {
    // Page scripts evaluated in Chromium reach the app's window globals, which have no types on this side.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
