// ESLint (flat config) with typescript-eslint's recommended rules; prettier owns the layout.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "pdist/", ".bench-dist/", "node_modules/", "tools/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Provider SDKs are loaded with require() where resources are built, so the CLI's start-up stays light.
      "@typescript-eslint/no-require-imports": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    // Tests read parsed YAML and JSON documents whose shape the assertions themselves check.
    files: ["tests/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    languageOptions: { globals: { module: "readonly", require: "readonly", process: "readonly", __dirname: "readonly" } },
  },
);
