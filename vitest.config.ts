import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // the library's tests, and the CLI package's (cli/test), which spawn its built binary or import its sources
    include: ["test/**/*.test.ts", "cli/test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
