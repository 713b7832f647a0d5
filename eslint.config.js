// ESLint for the dashboard's one script: the recommended rules, plus what keeps it honest
// (no unused names, strict equality, no promise left without a handler where we can see it).
"use strict";

const js = require("@eslint/js");
const globals = require("globals");

module.exports = [
  { ignores: [".venv/**", ".cache/**", "build/**", "test-artifacts/**", "bench/results/**"] },
  js.configs.recommended,
  {
    files: ["service/xtract_service/ui/**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      eqeqeq: "error",
      "no-unused-vars": ["error", { args: "none", caughtErrors: "none" }],
      "no-var": "error",
      "prefer-const": "error",
      "require-await": "error",
      "no-return-await": "error",
    },
  },
  {
    files: ["eslint.config.js"],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node } },
  },
];
