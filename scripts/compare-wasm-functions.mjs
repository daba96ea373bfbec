// scripts/compare-wasm-functions.mjs: which exported kernels' compiled code differs between two builds of the wasm,
// function by function, so a change that adds kernels can show it left the others' code alone (the float32 kernels
// when the quantized ones were added). Each export's body is printed as text by binaryen (a dependency of
// assemblyscript); functions it calls are compared by their own bodies, recursively, since adding functions
// renumbers them. A difference in `free` and `alloc` alone is expected when static data grows: the allocator's heap
// starts after it. Exit status 1 when any other export changed or went.
//   node scripts/compare-wasm-functions.mjs OLD_BUILD_DIR [NEW_BUILD_DIR=build]
// with OLD_BUILD_DIR holding rnn-{simd,relaxed,scalar}.wasm built from the old sources (e.g. a `git worktree` of the
// old commit, `npm run build:wasm` there).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import binaryen from "binaryen";

const [oldDir, newDir = "build"] = process.argv.slice(2);
if (!oldDir) {
  console.error("usage: node scripts/compare-wasm-functions.mjs OLD_BUILD_DIR [NEW_BUILD_DIR]");
  process.exit(2);
}

/** Export name -> canonical text of its function, with every call target replaced by the callee's canonical text. */
function canonicalExports(path) {
  const module = binaryen.readBinary(readFileSync(path));
  const memo = new Map();
  const canonical = (name, depth = 0) => {
    if (memo.has(name)) return memo.get(name);
    if (depth > 50) return `<recursion ${name}>`;
    const text = binaryen.emitText(binaryen.getFunctionInfo(module.getFunction(name)).body);
    const out = text.replace(/\(call \$([^\s)]+)/g, (_, callee) => `(call {${canonical(callee, depth + 1)}}`);
    memo.set(name, out);
    return out;
  };
  const exports = new Map();
  for (let i = 0; i < module.getNumExports(); i++) {
    const e = binaryen.getExportInfo(module.getExportByIndex(i));
    if (e.kind === binaryen.ExternalFunction) exports.set(e.name, canonical(e.value));
  }
  module.dispose();
  return exports;
}

/** Exports whose code holds the heap's start, which moves when static data grows (exit status ignores them). */
const ALLOCATOR = new Set(["alloc", "free"]);
let changed = 0;
for (const build of ["simd", "relaxed", "scalar"]) {
  const before = canonicalExports(join(oldDir, `rnn-${build}.wasm`));
  const after = canonicalExports(join(newDir, `rnn-${build}.wasm`));
  const differ = [...before.keys()].filter((name) => after.has(name) && before.get(name) !== after.get(name));
  const removed = [...before.keys()].filter((name) => !after.has(name));
  const added = [...after.keys()].filter((name) => !before.has(name));
  changed += differ.filter((name) => !ALLOCATOR.has(name)).length + removed.length;
  console.log(`${build}: ${before.size - differ.length - removed.length} of ${before.size} exports compile to the same code` +
    (differ.length ? `; changed: ${differ.join(", ")}` : "") + (removed.length ? `; removed: ${removed.join(", ")}` : "") +
    (added.length ? `; added: ${added.join(", ")}` : ""));
}
process.exit(changed ? 1 : 0);
