import { plugin } from "bun";
import ts5 from "typescript-5";

/**
 * Preloaded (`bun --preload`) when running openapi-typescript in tests: it builds its output with
 * the TypeScript compiler API, which the repository's TypeScript 7 (native) no longer ships, so
 * its `import "typescript"` gets the pinned TypeScript 5 instead.
 */
plugin({
  name: "typescript-5 for openapi-typescript",
  setup(build) {
    build.onLoad({ filter: /\/node_modules\/typescript\/lib\/[^/]+$/ }, () => ({ exports: { default: ts5, ...ts5 }, loader: "object" }));
  },
});
