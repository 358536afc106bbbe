// ESLint flat config: type-aware typescript-eslint rules, Prettier owns formatting.
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [
      "dist/",
      "docs/api/",
      "node_modules/",
      "coverage/",
      "tour/index.html",
      "eslint.config.js",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_" },
      ],
    },
  },
  {
    // Tests and benchmarks handle loosely typed results of transformations and peer libraries.
    files: ["test/**", "bench/**", "examples/**"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  {
    // The tour's live code: plain JavaScript that tour/lib/live.ts runs with LIVE_SCOPE's
    // names (and quick) as parameters, in Node for the report and in the live page; the
    // section reads the names it defines, so they look unused here.
    files: ["tour/**/*.live.js"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      sourceType: "script",
      globals: Object.fromEntries(
        [
          "np",
          "lax",
          "nn",
          "optim",
          "stats",
          "infer",
          "ode",
          "physics",
          "random",
          "tree",
          "grad",
          "valueAndGrad",
          "jvp",
          "vjp",
          "vmap",
          "jacfwd",
          "jacrev",
          "hessian",
          "jit",
          "GradientTape",
          "noGrad",
          "toDot",
          "makeJaxpr",
          "emitSource",
          "grid",
          "logGrid",
          "quick",
          "Math",
          "Number",
          "Array",
          "Object",
          "JSON",
          "Infinity",
          "NaN",
          "performance",
        ].map((name) => [name, "readonly"]),
      ),
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      "no-unused-vars": "off",
      "@typescript-eslint/no-unused-vars": "off",
    },
  },
  prettier,
);
