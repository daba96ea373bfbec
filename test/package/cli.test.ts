// test/package/cli.test.ts: the command line as a user installs it. `npm pack` of the library and of the CLI package
// (cli/, rnn-wasm-cli), both tarballs installed into an empty app, then the `rnn-wasm` command the CLI's tarball
// provides runs its demo on the data its tarball ships, and serves its demo model over HTTP (its worker threads load
// their files from the installed packages, which a run from the repository cannot show). The CLI's dependencies come from npm's cache or registry.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeProc, packed, removePacked, run, ROOT, tempDir, type Proc } from "../bundlers/helpers.js";

describe("the packed CLI, installed with the packed library into an empty app", () => {
  let root: string;
  let app: string;
  let cliFiles: string[];
  let install: Proc;

  beforeAll(async () => {
    if (!existsSync(join(ROOT, "cli/dist/cli.js"))) throw new Error("cli/dist/cli.js does not exist: run `npm run build` before the package tests");
    root = tempDir("cli-consumer");
    const packs = join(root, "packs");
    mkdirSync(packs);
    const [lib, cli] = await Promise.all([
      packed(),
      run("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", packs], join(ROOT, "cli")),
    ]);
    expect(cli.code, describeProc(cli)).toBe(0);
    const [info] = JSON.parse(cli.stdout.slice(cli.stdout.indexOf("["))) as Array<{ filename: string; files: { path: string }[] }>;
    cliFiles = info.files.map((f) => f.path);
    app = join(root, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "cli-consumer", private: true }, null, 2));
    install = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", lib.tgz, join(packs, info.filename)], app);
  }, 240_000);

  afterAll(async () => {
    if (root) rmSync(root, { recursive: true, force: true });
    await removePacked();
  });

  it("the CLI's tarball holds its built command, its data, README and LICENSE, and no sources or tests", () => {
    expect(cliFiles).toContain("dist/cli.js");
    for (const f of ["data/lstm-demo.safetensors", "data/lstm-demo.input.safetensors", "data/co2-concentration.csv", "README.md", "LICENSE", "package.json"]) {
      expect(cliFiles).toContain(f);
    }
    expect(cliFiles.filter((f) => !/^(dist\/.*\.js|data\/.*|README\.md|LICENSE|package\.json)$/.test(f))).toEqual([]);
  });

  it("installs, with rnn-wasm from the library's tarball (not the registry)", () => {
    expect(install.code, describeProc(install)).toBe(0);
    expect(readdirSync(join(app, "node_modules"))).toEqual(expect.arrayContaining(["rnn-wasm", "rnn-wasm-cli", "commander"]));
    // npm's lockfile says where each came from: both packages from the tarballs (file:), never the registry
    const lock = JSON.parse(readFileSync(join(app, "package-lock.json"), "utf8")) as { packages: Record<string, { resolved?: string }> };
    expect(lock.packages["node_modules/rnn-wasm"].resolved).toMatch(/^file:.*rnn-wasm-0\.1\.0\.tgz$/);
    expect(lock.packages["node_modules/rnn-wasm-cli"].resolved).toMatch(/^file:.*rnn-wasm-cli-0\.1\.0\.tgz$/);
  });

  it("`rnn-wasm demo` runs from the installed tarballs and matches PyTorch", async () => {
    const bin = join(app, "node_modules/.bin", process.platform === "win32" ? "rnn-wasm.cmd" : "rnn-wasm");
    const demo = await run(bin, ["demo", "--runs", "2"], app);
    expect(demo.code, describeProc(demo)).toBe(0);
    // one row per backend: its largest difference from PyTorch's output, which the demo checks itself (exit 1 if off)
    expect(demo.stdout).toMatch(/^ {2}wasm simd .* agrees$/m);
    expect(demo.stdout).toMatch(/^ {2}reference .* agrees$/m);
    expect(demo.stdout).toContain("node_modules/rnn-wasm-cli/data/lstm-demo.safetensors");
  }, 120_000);

  it("`rnn-wasm serve` starts from the installed tarballs, answers a prediction, and exits 0 on SIGTERM", async () => {
    const bin = join(app, "node_modules/.bin", process.platform === "win32" ? "rnn-wasm.cmd" : "rnn-wasm");
    const model = join(app, "node_modules/rnn-wasm-cli/data/lstm-demo.safetensors"); // LSTM 64 -> 256
    const server = spawn(bin, ["serve", "--model", model, "--port", "0", "--threads", "1", "--log-level", "warn"], { cwd: app, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "", stderr = "";
    server.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    server.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const exited = once(server, "exit");
    try {
      const url = await new Promise<string>((resolve, reject) => {
        server.stdout.on("data", () => {
          const m = /http:\/\/[\d.]+:\d+/.exec(stdout);
          if (m) resolve(m[0]);
        });
        server.on("exit", (code) => reject(new Error(`serve exited ${code} before listening\n${stdout}\n${stderr}`)));
      });
      const input = Array.from({ length: 3 }, (_, t) => Array.from({ length: 64 }, (_, i) => Math.sin(t + i)));
      const r = await fetch(`${url}/v1/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ input }) });
      const body = (await r.json()) as { output: number[][] };
      expect(r.status, JSON.stringify(body)).toBe(200);
      expect(body.output.map((row) => row.length)).toEqual([256, 256, 256]);
    } finally {
      server.kill("SIGTERM");
    }
    const [code] = await exited;
    expect(code, `${stdout}\n${stderr}`).toBe(0);
  }, 60_000);
});
