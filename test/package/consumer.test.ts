// test/package/consumer.test.ts: the library as a user installs it. `npm pack` of the repository, then:
//   - the tarball holds what the package needs and nothing else: built JS and declarations, the three .wasm builds,
//     README, LICENSE, package.json; every relative import and asset URL in the shipped JS resolves to a shipped
//     file, and every export target exists. Anything else (source maps of unshipped sources, tests, sources, asc's
//     bindings, the CLI) is listed in the failure;
//   - no install scripts;
//   - `npm install <tgz>` into an empty app adds no other package;
//   - ESM import runs an LSTM with the same output as the repository's source, and so does require() on
//     Node >= 20.19 (require(esm));
//   - "rnn-wasm/serving" and "rnn-wasm/worker-pool" (ESM and require) answer the same LSTM through ServedModel,
//     DynamicBatcher and ModelPool (whose worker runs the shipped worker script), and the RnnError they throw is
//     "rnn-wasm"'s class (the entries share one module instance);
//   - "rnn-wasm/onnx" runs examples/onnx-lstm.onnx with the repository source's outputs, and its RnnError is
//     "rnn-wasm"'s class; the shipped JS imports no package (the protobuf reader is bundled in);
//   - "rnn-wasm/tfjs" runs test/fixtures/tfjs/lstm (a model saved by TensorFlow.js) with the repository source's
//     output, and its RnnError is "rnn-wasm"'s class;
//   - "rnn-wasm/keras" runs examples/keras-lstm.keras (a Keras 3 file) with the repository source's output, and its
//     RnnError is "rnn-wasm"'s class; its zip and HDF5 readers are bundled in (no package import, no dependency);
//   - `tsc --noEmit` passes for a Node consumer with lib es2022 and @types/node only (no DOM lib), and for a browser
//     consumer with lib es2022 + dom, both with skipLibCheck off so the package's declarations are checked.
// The install prefers npm's cache (--prefer-offline) and runs no audit or funding requests.
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, posix } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { init, LSTM, tensor } from "../../src/index.js";
import { fromOnnx } from "../../src/onnx/index.js";
import { fromTfjs } from "../../src/tfjs/index.js";
import { fromKeras } from "../../src/keras/index.js";
import {
  type AppResult, BIN, describeProc, packed, removePacked, type Packed, type Proc, ROOT, run, tempDir, untar,
} from "../bundlers/helpers.js";

const FIXTURES = join(ROOT, "test/package/fixtures");
const TFJS_MODEL = join(ROOT, "test/fixtures/tfjs/lstm");
const WASM = ["build/rnn-relaxed.wasm", "build/rnn-scalar.wasm", "build/rnn-simd.wasm"];

/** What the library's tarball may hold. */
function shippable(path: string): boolean {
  if (["package.json", "README.md", "LICENSE", ...WASM].includes(path)) return true;
  if (/^workerd\/index\.(js|d\.ts)$/.test(path)) return true;
  return /^dist\/.+\.(js|d\.ts)$/.test(path) && !/^dist\/src\/cli(\.|\/)/.test(path);
}

/** Why a file that is not shippable is in the tarball (a category, for the failure message). */
function whyJunk(path: string, files: Set<string>, tarball: Map<string, string>): string {
  if (path.endsWith(".map")) {
    const sources = (JSON.parse(tarball.get(path) ?? "{}").sources ?? []) as string[];
    const unshipped = sources.some((s) => !files.has(posix.join(posix.dirname(path), s)));
    return unshipped ? "source maps pointing at sources that are not shipped" : "source maps";
  }
  if (/^dist\/src\/cli(\.|\/)/.test(path)) return "the command line, which belongs to its own package";
  if (/^build\/rnn-\w+\.(js|d\.ts)$/.test(path)) return "asc's generated bindings, which the package does not import";
  if (/(^|\/)(test|tests|__tests__)\//.test(path) || /\.test\.[jt]s$/.test(path)) return "tests";
  if (/^(assembly|src)\//.test(path) || (/\.ts$/.test(path) && !path.endsWith(".d.ts"))) return "sources";
  return "files that are not part of the library";
}

/** Relative specifiers a shipped module imports or points at with new URL("...", import.meta.url). */
function relativeReferences(source: string): string[] {
  const text = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, ""); // not in comments
  const out: string[] = [];
  for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g)) out.push(m[1]);
  for (const m of text.matchAll(/new URL\(\s*["'](\.{1,2}\/[^"']+)["']\s*,\s*import\.meta\.url\s*\)/g)) out.push(m[1]);
  return out;
}

/** The tarball's files and their text, read with tar (only .js, .d.ts, .map and package.json are needed as text). */
function tarballTexts(tgz: string, into: string): Map<string, string> {
  untar(tgz, into);
  const texts = new Map<string, string>();
  for (const f of readdirSync(into, { recursive: true }).map((p) => String(p).replaceAll("\\", "/"))) {
    if (/\.(js|map|json)$/.test(f)) texts.set(f, readFileSync(join(into, f), "utf8"));
  }
  return texts;
}

describe("the packed library, installed into an empty app", () => {
  let pack: Packed;
  let files: Set<string>;
  let texts: Map<string, string>;
  let root: string;
  let app: string;
  let install: Proc;
  let esm: Proc;
  let cjs: Proc | null;
  let serving: { esm: Proc; cjs: Proc | null };
  let tsc: { node: Proc; dom: Proc };
  let onnx: Proc;
  let tfjs: Proc;
  let keras: Proc;
  let expected: AppResult;
  let expectedOnnx: { build: string; Y: number[]; Y_h: number[]; sameRnnError: boolean };
  let expectedTfjs: { build: string; output: number[]; sameRnnError: boolean };
  let expectedKeras: { build: string; output: number[]; sameRnnError: boolean };

  const requireEsm = (() => {
    const [major, minor] = process.versions.node.split(".").map(Number);
    return major > 22 || (major === 22 && minor >= 12) || (major === 20 && minor >= 19); // where require(esm) is on by default
  })();

  beforeAll(async () => {
    pack = await packed();
    files = new Set(pack.files.map((f) => f.path));
    root = tempDir("consumer");
    texts = tarballTexts(pack.tgz, join(root, "unpacked"));
    console.info(`npm pack: ${pack.tgz.split(/[\\/]/).pop()}, ${pack.size} bytes (${pack.unpackedSize} unpacked), ${pack.files.length} files:\n` +
      pack.files.map((f) => `  ${String(f.size).padStart(8)}  ${f.path}`).join("\n"));

    app = join(root, "app");
    cpSync(FIXTURES, app, { recursive: true });
    cpSync(join(ROOT, "examples/onnx-lstm.onnx"), join(app, "lstm.onnx"));
    cpSync(TFJS_MODEL, join(app, "tfjs"), { recursive: true });
    cpSync(join(ROOT, "examples/keras-lstm.keras"), join(app, "model.keras"));
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }, null, 2));
    install = await run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", pack.tgz], app);
    expect(install.code, describeProc(install)).toBe(0);

    const types = join(ROOT, "node_modules/@types");
    const base = { target: "es2022", strict: true, noEmit: true, skipLibCheck: false, typeRoots: [types] };
    writeFileSync(join(app, "tsconfig.node.json"), JSON.stringify({
      compilerOptions: { ...base, module: "nodenext", moduleResolution: "nodenext", lib: ["es2022"], types: ["node"] },
      files: ["consumer-node.ts", "consumer-serving.ts", "consumer-pool.ts", "consumer-onnx.ts", "consumer-tfjs.ts", "consumer-keras.ts"],
    }, null, 2));
    writeFileSync(join(app, "tsconfig.dom.json"), JSON.stringify({
      compilerOptions: { ...base, module: "esnext", moduleResolution: "bundler", lib: ["es2022", "dom"], types: [] },
      files: ["consumer-dom.ts", "consumer-serving.ts", "consumer-onnx.ts", "consumer-tfjs.ts", "consumer-keras.ts"],
    }, null, 2));
    const tscBin = join(BIN, process.platform === "win32" ? "tsc.cmd" : "tsc");
    const [e, c, se, sc, tn, td, ox, tf, kr] = await Promise.all([
      run(process.execPath, ["esm.mjs"], app),
      requireEsm ? run(process.execPath, ["require.cjs"], app) : Promise.resolve(null),
      run(process.execPath, ["serving.mjs"], app),
      requireEsm ? run(process.execPath, ["serving.cjs"], app) : Promise.resolve(null),
      run(tscBin, ["-p", "tsconfig.node.json"], app),
      run(tscBin, ["-p", "tsconfig.dom.json"], app),
      run(process.execPath, ["onnx.mjs"], app),
      run(process.execPath, ["tfjs.mjs"], app),
      run(process.execPath, ["keras.mjs"], app),
    ]);
    [esm, cjs, serving, tsc, onnx, tfjs, keras] = [e, c, { esm: se, cjs: sc }, { node: tn, dom: td }, ox, tf, kr];

    const runtime = await init();
    const lstm = new LSTM({ inputSize: 3, hiddenSize: 4, seed: 1 });
    const { output } = lstm.forward(tensor([5, 1, 3], Float32Array.from({ length: 15 }, (_, i) => Math.sin(i))));
    lstm.dispose();
    expected = { build: runtime.build, output: Array.from(output.data) };
    const model = fromOnnx(readFileSync(join(ROOT, "examples/onnx-lstm.onnx")));
    const x = tensor([6, 1, 2], Float32Array.from({ length: 12 }, (_, i) => Math.sin(i)));
    const { Y, Y_h } = model.run({ X: x });
    model.dispose();
    expectedOnnx = { build: runtime.build, Y: Array.from(Y.data), Y_h: Array.from(Y_h.data), sameRnnError: true };
    const io = JSON.parse(readFileSync(join(TFJS_MODEL, "io.json"), "utf8"));
    const tfModel = fromTfjs(JSON.parse(readFileSync(join(TFJS_MODEL, "model.json"), "utf8")), readFileSync(join(TFJS_MODEL, "weights.bin")));
    const y = tfModel.predict(tensor(io.inputShape, Float32Array.from(io.input)));
    tfModel.dispose();
    expectedTfjs = { build: runtime.build, output: Array.from(y.data), sameRnnError: true };
    const kerasModel = fromKeras(readFileSync(join(ROOT, "examples/keras-lstm.keras")));
    const ky = kerasModel.predict(tensor([2, 7, 3], Float32Array.from({ length: 42 }, (_, i) => Math.sin(i))));
    kerasModel.dispose();
    expectedKeras = { build: runtime.build, output: Array.from(ky.data), sameRnnError: true };
  }, 180_000);

  afterAll(async () => {
    if (root) rmSync(root, { recursive: true, force: true });
    await removePacked();
  });

  it("the tarball holds the built JS, declarations, the three .wasm builds, README, LICENSE and nothing else", () => {
    for (const f of ["package.json", "README.md", "LICENSE", ...WASM, "dist/src/index.js", "dist/src/index.d.ts"]) {
      expect(files.has(f), `${f} is missing from the tarball`).toBe(true);
    }
    const junk = [...files].filter((f) => !shippable(f));
    const byReason = new Map<string, string[]>();
    for (const f of junk) {
      const reason = whyJunk(f, files, texts);
      byReason.set(reason, [...(byReason.get(reason) ?? []), f]);
    }
    const report = [...byReason].map(([reason, list]) => `${list.length} × ${reason}: ${list.slice(0, 6).join(", ")}${list.length > 6 ? ", ..." : ""}`);
    expect(report, `the tarball ships ${junk.length} files it should not`).toEqual([]);
  });

  it("every export target, and every relative import or asset URL in the shipped JS, is in the tarball", () => {
    const pkg = JSON.parse(texts.get("package.json")!);
    const targets: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === "string") targets.push(v);
      else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    walk(pkg.exports);
    walk(pkg.types);
    walk(pkg.main);
    const missing: string[] = [];
    for (const t of targets) {
      const path = posix.normalize(t);
      if (path.includes("*")) {
        const [prefix] = path.split("*");
        if (![...files].some((f) => f.startsWith(prefix))) missing.push(`export ${t}`);
      } else if (!files.has(path)) missing.push(`export ${t}`);
    }
    for (const [file, text] of texts) {
      if (!/\.(js|d\.ts)$/.test(file) || !files.has(file)) continue;
      for (const ref of relativeReferences(text)) {
        const target = posix.join(posix.dirname(file), ref);
        const candidates = file.endsWith(".d.ts") ? [target, target.replace(/\.js$/, ".d.ts")] : [target];
        if (!candidates.some((c) => files.has(c))) missing.push(`${file} -> ${ref}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it("the shipped JS imports no package but node: built-ins (the protobuf reader of rnn-wasm/onnx is bundled in)", () => {
    const bare: string[] = [];
    for (const [file, text] of texts) {
      if (!file.endsWith(".js") || !files.has(file)) continue;
      const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
      for (const m of code.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']((?:@[\w.-]+\/)?[\w][\w.-]*(?:\/[\w./-]*)?)["']/g)) {
        // a package other than node's built-ins and this one (its own wasm, by its own name: rnn-wasm/wasm/*)
        if (!m[1].startsWith("node:") && m[1] !== "rnn-wasm" && !m[1].startsWith("rnn-wasm/")) bare.push(`${file} -> ${m[1]}`);
      }
    }
    expect(bare).toEqual([]);
  });

  it("import { fromOnnx } from 'rnn-wasm/onnx' runs an ONNX LSTM: the repository source's outputs, and 'rnn-wasm''s RnnError", () => {
    expect(onnx.code, describeProc(onnx)).toBe(0);
    expect(JSON.parse(onnx.stdout)).toEqual(expectedOnnx);
  });

  it("import { fromTfjs } from 'rnn-wasm/tfjs' runs a TensorFlow.js model: the repository source's output, and 'rnn-wasm''s RnnError", () => {
    expect(tfjs.code, describeProc(tfjs)).toBe(0);
    expect(JSON.parse(tfjs.stdout)).toEqual(expectedTfjs);
  });

  it("import { fromKeras } from 'rnn-wasm/keras' runs a Keras 3 file: the repository source's output, and 'rnn-wasm''s RnnError", () => {
    expect(keras.code, describeProc(keras)).toBe(0);
    expect(JSON.parse(keras.stdout)).toEqual(expectedKeras);
  });

  it("installing it runs no scripts (npm runs preinstall, install and postinstall from a registry or a tarball)", () => {
    const scripts = JSON.parse(texts.get("package.json")!).scripts ?? {};
    expect(Object.keys(scripts).filter((s) => ["preinstall", "install", "postinstall"].includes(s))).toEqual([]);
  });

  it("installing it adds no other package: node_modules holds only rnn-wasm", () => {
    const modules = readdirSync(join(app, "node_modules")).filter((f) => !f.startsWith("."));
    const lock = JSON.parse(readFileSync(join(app, "node_modules/.package-lock.json"), "utf8")).packages as Record<string, unknown>;
    expect(modules).toEqual(["rnn-wasm"]);
    expect(Object.keys(lock)).toEqual(["node_modules/rnn-wasm"]);
  });

  it("import { init, LSTM } from 'rnn-wasm' runs an LSTM: the same output as the repository's source", () => {
    expect(esm.code, describeProc(esm)).toBe(0);
    expect(JSON.parse(esm.stdout)).toEqual(expected);
  });

  it.skipIf(!requireEsm)(`require('rnn-wasm') runs the same LSTM (require(esm), Node >= 20.19; this is ${process.version})`, () => {
    expect(cjs!.code, describeProc(cjs!)).toBe(0);
    expect(JSON.parse(cjs!.stdout.trim().split("\n").pop()!)).toEqual(expected);
  });

  it("import from 'rnn-wasm/serving' and 'rnn-wasm/worker-pool' answers the same LSTM, and their RnnError is 'rnn-wasm''s class", () => {
    expect(serving.esm.code, describeProc(serving.esm)).toBe(0);
    expect(JSON.parse(serving.esm.stdout)).toEqual({ ...expected, sameRnnError: true, poolOutput: expected.output, poolRnnError: true });
  });

  it.skipIf(!requireEsm)("require('rnn-wasm/serving') and require('rnn-wasm/worker-pool') beside require('rnn-wasm'): the same answers and RnnError class", () => {
    expect(serving.cjs!.code, describeProc(serving.cjs!)).toBe(0);
    expect(JSON.parse(serving.cjs!.stdout.trim().split("\n").pop()!)).toEqual({ ...expected, sameRnnError: true, poolOutput: expected.output, poolRnnError: true });
  });

  it("tsc --noEmit passes for a Node consumer with lib es2022 and @types/node only (no DOM lib)", () => {
    expect(tsc.node.code, describeProc(tsc.node)).toBe(0);
  });

  it("tsc --noEmit passes for a browser consumer with lib es2022 + dom (moduleResolution bundler)", () => {
    expect(tsc.dom.code, describeProc(tsc.dom)).toBe(0);
  });
});
