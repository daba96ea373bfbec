// scripts/build-wasm.mjs: `npm run build:wasm`: the three wasm builds (asconfig.json's targets simd, relaxed, scalar),
// compiled only when their inputs changed. `npm start` and `npm test` each build everything first (a clone's
// commands must work in any order), and asc takes most of that build (about 14 s of 24 on our 2-core machines), so
// the second build in a row skips it. The inputs are hashed, not compared by date: a checkout of another commit can
// give older sources a newer date, or newer ones an older date. Inputs: every file under assembly/, asconfig.json,
// the AssemblyScript compiler's version, and this script. The hash is kept in build/.inputs-hash, written after all
// three builds succeeded; a missing output (a .wasm or its raw bindings) or `--force` rebuilds.
//   node scripts/build-wasm.mjs [--force]
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const TARGETS = ["simd", "relaxed", "scalar"];
const STAMP = join(ROOT, "build/.inputs-hash");

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? filesUnder(path) : [path];
  });
}

function inputsHash() {
  const hash = createHash("sha256");
  const files = [...filesUnder(join(ROOT, "assembly")), join(ROOT, "asconfig.json"), fileURLToPath(import.meta.url)];
  for (const file of files.sort()) {
    hash.update(relative(ROOT, file)).update("\0").update(readFileSync(file)).update("\0");
  }
  const asc = JSON.parse(readFileSync(join(ROOT, "node_modules/assemblyscript/package.json"), "utf8"));
  hash.update(`assemblyscript ${asc.version}`);
  return hash.digest("hex");
}

const outputs = TARGETS.flatMap((t) => ["wasm", "js", "d.ts"].map((ext) => join(ROOT, `build/rnn-${t}.${ext}`)));
const hash = inputsHash();
const force = process.argv.includes("--force");
if (!force && outputs.every(existsSync) && existsSync(STAMP) && readFileSync(STAMP, "utf8").trim() === hash) {
  console.log("build/*.wasm: up to date with assembly/ (node scripts/build-wasm.mjs --force rebuilds)");
} else {
  const asc = join(ROOT, "node_modules/assemblyscript/bin/asc.js");
  for (const target of TARGETS) {
    execFileSync(process.execPath, [asc, "assembly/index.ts", "--target", target], { cwd: ROOT, stdio: "inherit" });
  }
  writeFileSync(STAMP, hash + "\n");
}
