// test/wasm-runtime/kernel-interface.test.ts: the Kernels interface (src/runtime.ts), through which src/ calls the
// module, against what each build really exports. JavaScript calls a wasm export with whatever it is given: a missing
// argument arrives as 0 and an extra one is dropped, so a stale interface compiles and then computes the wrong thing.
//   - names: every export is a member of Kernels and every member is exported (a rename fails both ways);
//   - arity: each exported function's parameter count (its `.length`) is the number of parameters Kernels gives it,
//     and a value (memory) is a value in both;
//   - parameter names, in order, are those of the kernel's signature in assembly/, which asc writes into
//     build/rnn-<build>.d.ts beside each module: two swapped pointers keep the count, and fail here.
// Kernels is read from src/runtime.ts with the TypeScript parser, because the hand-written interface is the side that
// drifts: the .d.ts comes out of the same compile as the module, so it cannot disagree with it, and generating
// Kernels from it would make the interface the published declarations show depend on a build artefact. The last
// block shows the check failing on each kind of drift, on copies of the interface text and of the exports.
// To try it on real files: KERNELS_INTERFACE=<a copy of src/runtime.ts> and KERNELS_WASM_DIR=<a folder with
// rnn-<build>.wasm and .d.ts> (as for test/kernels) replace the repository's.
import { readFileSync } from "node:fs";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { BUILDS } from "../../src/runtime.js";
import { allowRelaxedSimd } from "../helpers/runtimes.js";

const ROOT = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, ROOT), "utf8");

/** Members by name: a function's parameter names, or null for a value. */
type Members = Map<string, string[] | null>;
/** Exports by name: a function's parameter count, or null for a value. */
type Arities = Map<string, number | null>;

const paramNames = (file: ts.SourceFile, params: ts.NodeArray<ts.ParameterDeclaration>) => params.map((p) => p.name.getText(file));

/** The `Kernels` interface of a TypeScript source, with each member's node (for the drift cases below). */
function kernelsInterface(source: string): { members: Members; nodes: Map<string, ts.TypeElement>; file: ts.SourceFile } {
  const file = ts.createSourceFile("runtime.ts", source, ts.ScriptTarget.Latest, true);
  const decl = file.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === "Kernels");
  if (!decl) throw new Error("src/runtime.ts declares no interface Kernels");
  const members: Members = new Map(), nodes = new Map<string, ts.TypeElement>();
  for (const m of decl.members) {
    const name = m.name!.getText(file);
    nodes.set(name, m);
    if (ts.isMethodSignature(m)) members.set(name, paramNames(file, m.parameters));
    else if (ts.isPropertySignature(m)) members.set(name, m.type && ts.isFunctionTypeNode(m.type) ? paramNames(file, m.type.parameters) : null);
    else throw new Error(`Kernels: a member the check does not read: ${m.getText(file)}`);
  }
  return { members, nodes, file };
}

/** What asc declares for a build in build/rnn-<build>.d.ts: the members of its namespace __AdaptedExports. */
function declaredExports(dts: string): Members {
  const file = ts.createSourceFile("rnn.d.ts", dts, ts.ScriptTarget.Latest, true);
  const ns = file.statements.find((s): s is ts.ModuleDeclaration => ts.isModuleDeclaration(s) && s.name.text === "__AdaptedExports");
  if (!ns?.body || !ts.isModuleBlock(ns.body)) throw new Error("the .d.ts has no namespace __AdaptedExports");
  const out: Members = new Map();
  for (const s of ns.body.statements) {
    if (ts.isFunctionDeclaration(s)) out.set(s.name!.text, paramNames(file, s.parameters));
    else if (ts.isVariableStatement(s)) for (const d of s.declarationList.declarations) out.set(d.name.getText(file), null);
  }
  return out;
}

/** An instance's exports: each function's parameter count, as JavaScript sees it. */
function arities(exports: WebAssembly.Exports): Arities {
  return new Map(Object.entries(exports).map(([name, v]) => [name, typeof v === "function" ? v.length : null]));
}

const kind = (isValue: boolean) => (isValue ? "a value" : "a function");

/** Every way the interface and a module's exports (and, given, the kernels' declared parameter names) disagree. */
function drift(kernels: Members, exports: Arities, declared?: Members): string[] {
  const problems: string[] = [];
  for (const [name, arity] of exports) {
    const params = kernels.get(name);
    if (params === undefined) problems.push(`${name} is exported, and missing from Kernels`);
    else if ((arity === null) !== (params === null)) problems.push(`${name} is ${kind(arity === null)} in the module, ${kind(params === null)} in Kernels`);
    else if (params && arity !== params.length) problems.push(`${name} takes ${arity} arguments in the module, ${params.length} in Kernels`);
    else if (params && declared?.get(name) && declared.get(name)!.join(", ") !== params.join(", ")) {
      problems.push(`${name}(${declared.get(name)!.join(", ")}) in assembly/, (${params.join(", ")}) in Kernels`);
    }
  }
  for (const name of kernels.keys()) if (!exports.has(name)) problems.push(`Kernels.${name} is not exported by the module`);
  return problems;
}

const BUILD_DIR = new URL("build/", ROOT);
const WASM_DIR = process.env.KERNELS_WASM_DIR ? new URL(`file://${process.env.KERNELS_WASM_DIR}/`) : BUILD_DIR;
const KERNELS = kernelsInterface(process.env.KERNELS_INTERFACE ? readFileSync(process.env.KERNELS_INTERFACE, "utf8") : read("src/runtime.ts"));

async function instantiate(build: string, dir: URL): Promise<WebAssembly.Exports> {
  const module = await WebAssembly.compile(readFileSync(new URL(`rnn-${build}.wasm`, dir)));
  return (await WebAssembly.instantiate(module, {})).exports;
}

describe("the Kernels interface against each build's exports", () => {
  beforeAll(allowRelaxedSimd);

  it.each(BUILDS)("%s: the same names, parameter counts and parameter names", async (build) => {
    expect(drift(KERNELS.members, arities(await instantiate(build, WASM_DIR)), declaredExports(readFileSync(new URL(`rnn-${build}.d.ts`, WASM_DIR), "utf8")))).toEqual([]);
  });
});

// (on the repository's own interface and scalar build, whatever KERNELS_INTERFACE and KERNELS_WASM_DIR say)
describe("the check fails on each kind of drift", () => {
  const SOURCE = read("src/runtime.ts");
  const KERNELS = kernelsInterface(SOURCE);
  let exports: WebAssembly.Exports;
  beforeAll(async () => {
    exports = await instantiate("scalar", BUILD_DIR);
  });
  // two kernels to change: the first two members of Kernels that take two arguments or more
  const [first, second] = [...KERNELS.members].filter(([, params]) => params && params.length >= 2).map(([name]) => name);
  const params = (name: string) => KERNELS.members.get(name)!;

  /** Kernels read from src/runtime.ts with `text` in place of [from, to). */
  function edited(from: number, to: number, text: string): Members {
    return kernelsInterface(SOURCE.slice(0, from) + text + SOURCE.slice(to)).members;
  }
  const node = (name: string) => KERNELS.nodes.get(name)!;
  const without = (name: string) => edited(node(name).getFullStart(), node(name).getEnd(), "");

  it("an export renamed, in the module or in the interface", () => {
    const renamed = Object.fromEntries(Object.entries(exports).map(([k, v]) => [k === first ? `${first}F32` : k, v]));
    expect(drift(KERNELS.members, arities(renamed))).toEqual([`${first}F32 is exported, and missing from Kernels`, `Kernels.${first} is not exported by the module`]);
    const nameNode = node(first).name!;
    const inInterface = edited(nameNode.getStart(KERNELS.file), nameNode.getEnd(), `${first}F32`);
    expect(drift(inInterface, arities(exports))).toEqual([`${first} is exported, and missing from Kernels`, `Kernels.${first}F32 is not exported by the module`]);
  });

  it("an export removed", () => {
    const { [first]: _, ...removed } = exports;
    expect(drift(KERNELS.members, arities(removed))).toEqual([`Kernels.${first} is not exported by the module`]);
  });

  it("an export added without the interface (as lstmGateWidth and gruGateWidth were)", () => {
    const added = { ...exports, newKernel: function (a: number, b: number) { return a + b; } };
    expect(drift(KERNELS.members, arities(added))).toEqual(["newKernel is exported, and missing from Kernels"]);
    expect(drift(without(second), arities(exports))).toEqual([`${second} is exported, and missing from Kernels`]);
  });

  it("an argument added, in the module or in the interface, or two arguments swapped", () => {
    const n = params(first).length;
    // a function of n + 1 parameters under the kernel's name: what a kernel that gained an argument exports
    const longer = { ...exports, [first]: new Function(...params(first), "extra", "") };
    expect(drift(KERNELS.members, arities(longer))).toEqual([`${first} takes ${n + 1} arguments in the module, ${n} in Kernels`]);
    const last = (node(first) as ts.MethodSignature).parameters.at(-1)!;
    const inInterface = edited(last.getEnd(), last.getEnd(), ", extra: number");
    expect(drift(inInterface, arities(exports))).toEqual([`${first} takes ${n} arguments in the module, ${n + 1} in Kernels`]);
    const swapped = new Map(KERNELS.members).set(first, [params(first)[1], params(first)[0], ...params(first).slice(2)]);
    expect(drift(KERNELS.members, arities(exports), swapped)).toEqual([
      `${first}(${swapped.get(first)!.join(", ")}) in assembly/, (${params(first).join(", ")}) in Kernels`,
    ]);
  });

  it("memory turned into a function, or a kernel into a value", () => {
    expect(drift(KERNELS.members, arities({ ...exports, memory: () => 0 }))).toEqual(["memory is a function in the module, a value in Kernels"]);
    expect(drift(KERNELS.members, arities({ ...exports, [first]: new WebAssembly.Global({ value: "i32" }, 0) }))).toEqual([
      `${first} is a value in the module, a function in Kernels`,
    ]);
  });
});
