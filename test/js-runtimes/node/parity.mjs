// test/js-runtimes/node/parity.mjs: the parity case on whatever Node runs this file (Node 20, with or without
// --experimental-wasm-relaxed-simd, or Node 24), importing the package by its name as a user does (the "node"
// export condition). Prints one JSON line: the Node version, what init() chose, and the outputs per build.
import * as rnn from "rnn-wasm";
import { parityRun } from "../parity-case.js";

const result = await parityRun(rnn);
console.log(JSON.stringify({ node: process.version, ...result }));
