import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // the library's tests, and the CLI package's (cli/test), which spawn its built binary or import its sources
    include: ["test/**/*.test.ts", "cli/test/**/*.test.ts"],
    // one test file per core: vitest's default in `run` mode is one fewer than the cores, which on our 2-core machines
    // ran the files one after another while the second core waited (and many files wait on processes they spawn)
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
