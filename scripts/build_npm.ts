/**
 * Build the npm package into npm/ — what dnt would do, with TypeScript's own compiler (dnt lives
 * on JSR, which these machines cannot reach):
 *   1. type-check and emit ESM + .d.ts for every JSR export of deno.json (and what they import),
 *      against the ES and DOM libs only — no Node types, so the package stays runtime-neutral;
 *   2. rewrite the relative `.ts` specifiers TypeScript leaves in the emitted .d.ts files to
 *      `.js` (rewriteRelativeImportExtensions rewrites them in the .js output only), so that the
 *      declarations resolve without allowImportingTsExtensions in every TypeScript the package
 *      supports (see MIN_TYPESCRIPT);
 *   3. write package.json: `exports` generated from deno.json's exports (each with `types` and
 *      `default`) plus `./native` (npm only: the `bun`, `deno` and `node` conditions pick that
 *      runtime's native entry point, so portable code imports one path) and `./package.json`, `types`, `engines`, `sideEffects`, the repository
 *      links and `publishConfig`, README and LICENSE.
 * Tests against the emitted package run in tests/package/package.check.ts.
 *
 * Usage (after `tsc -p .`): node build/scripts/build_npm.js
 */

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The repository root (two levels above build/scripts/). */
export const root: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Where the package is emitted. */
export const outDir: string = join(root, "npm");

/** The repository, its home page and its issue tracker (also in the root package.json). */
export const REPOSITORY = "https://github.com/futex-sync/sync";

/**
 * The Node release lines the package supports, each with a consumer row in
 * tests/package/package.check.ts (Node 20 reached its end of life in April 2026).
 */
export const NODE_LINES = [22, 24, 26] as const;

/**
 * `engines.node`: the oldest supported line, from its first release that loads ES modules with
 * require() unflagged (22.12). The package is ESM only (no "require" condition, no CommonJS
 * build); CommonJS callers get it through require(esm), which the consumer rows check.
 */
export const NODE_ENGINES = ">=22.12";

/**
 * The oldest TypeScript whose type check of a consumer the package supports, checked by
 * tests/package/package.check.ts: 5.2 is the first with the `Disposable` lib
 * (lib "esnext.disposable") that `MutexGuard` and `SharedRegion` declare.
 */
export const MIN_TYPESCRIPT = "5.2.2";

interface DenoJson {
  name: string;
  version: string;
  license: string;
  exports: Record<string, string>;
}

/** deno.json, the one source of the name, version, license and entry points. */
export function readDenoJson(): DenoJson {
  const d = JSON.parse(readFileSync(join(root, "deno.json"), "utf8")) as DenoJson;
  if (typeof d.exports === "string") d.exports = { ".": d.exports };
  return d;
}

/**
 * A declaration file's relative module specifiers with `.ts` rewritten to `.js`: in
 * `from "./x.ts"`, `import("./x.ts")` and `import "./x.ts"` (what tsc emits), not in comments'
 * package names or other strings.
 */
export function rewriteDeclarationSpecifiers(dts: string): string {
  return dts.replace(/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"'\n]*?)\.ts\2/g, "$1$2$3.js$2");
}

function declarationFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".d.ts"))
    .map((e) => join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

/** `./x.ts` → `./x` (without extension), for the emitted .js / .d.ts pair. */
function stem(entry: string): string {
  return entry.replace(/\.ts$/, "");
}

/**
 * `./native` (npm only; JSR has no conditions and keeps the explicit subpaths): `bun` and `deno`
 * before `node` (Bun and Deno also match `node`), and `default` → the Node entry, which throws a
 * clear error elsewhere. One API, so the types are the Node entry's.
 */
export function nativeConditions(exportsMap: Record<string, Record<string, string> | string>): Record<string, string> {
  const entry = (key: string): Record<string, string> => {
    const e = exportsMap[key];
    if (typeof e !== "object") throw new Error(`deno.json exports no ${key}, which ./native maps to`);
    return e;
  };
  const [deno, bun, node] = [entry("./deno"), entry("./bun"), entry("./node")];
  return { types: node.types, bun: bun.default, deno: deno.default, node: node.default, default: node.default };
}

/** Build npm/ and return the package.json written. */
export function buildNpm(): Record<string, unknown> {
  const deno = readDenoJson();
  const dev = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown>;
  rmSync(outDir, { recursive: true, force: true });

  // Export entries, plus modules loaded by URL rather than import (the async-wait helper worker).
  const byUrl = ["adapters/native/wait_helper_worker.ts"];
  const entries = [...Object.values(deno.exports), ...byUrl].map((e) => join(root, e));
  const tsconfig = {
    compilerOptions: {
      target: "ES2022",
      lib: ["ES2024", "ESNext.Disposable", "DOM"],
      module: "NodeNext",
      moduleResolution: "NodeNext",
      rewriteRelativeImportExtensions: true,
      strict: true,
      isolatedModules: true,
      verbatimModuleSyntax: true,
      declaration: true,
      skipLibCheck: false,
      types: [],
      rootDir: root,
      outDir,
    },
    files: entries,
  };
  const configPath = join(root, "build", "tsconfig.npm.json");
  writeFileSync(configPath, JSON.stringify(tsconfig, null, 2));
  const tsc = spawnSync(process.execPath, [join(root, "node_modules", "typescript", "bin", "tsc"), "-p", configPath], {
    encoding: "utf8",
  });
  if (tsc.status !== 0) throw new Error(`tsc failed for the npm build:\n${tsc.stdout}${tsc.stderr}`);

  for (const f of declarationFiles(outDir)) {
    const dts = readFileSync(f, "utf8");
    const fixed = rewriteDeclarationSpecifiers(dts);
    if (fixed !== dts) writeFileSync(f, fixed);
  }

  const exportsMap: Record<string, Record<string, string> | string> = {};
  for (const [key, entry] of Object.entries(deno.exports)) {
    const s = stem(entry);
    for (const ext of [".js", ".d.ts"]) {
      if (!existsSync(join(outDir, `${s}${ext}`))) throw new Error(`the build did not emit ${s}${ext}`);
    }
    exportsMap[key] = { types: `${s}.d.ts`, default: `${s}.js` };
  }

  const main = exportsMap["."] as { types: string; default: string };
  exportsMap["./native"] = nativeConditions(exportsMap);
  exportsMap["./package.json"] = "./package.json";

  const pkg: Record<string, unknown> = {
    name: deno.name,
    version: deno.version,
    description: dev.description,
    license: deno.license,
    repository: { type: "git", url: `git+${REPOSITORY}.git` },
    homepage: `${REPOSITORY}#readme`,
    bugs: { url: `${REPOSITORY}/issues` },
    // ESM only (no "require" condition): import it; Node ≥ 22.12 can also require() it (require(esm)),
    // which every consumer row of the package check does.
    type: "module",
    exports: exportsMap,
    main: main.default,
    types: main.types,
    engines: { node: NODE_ENGINES },
    // mod.js installs the default futex (the Atomics one) when it is evaluated.
    sideEffects: [main.default],
    publishConfig: { access: "public" },
    files: ["**/*.js", "**/*.d.ts", "README.md", "LICENSE"],
    keywords: ["futex", "atomics", "sharedarraybuffer", "worker", "mutex", "semaphore", "event", "qemu", "deno", "bun", "ffi"],
  };
  writeFileSync(join(outDir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  copyFileSync(join(root, "README.md"), join(outDir, "README.md"));
  copyFileSync(join(root, "LICENSE"), join(outDir, "LICENSE"));
  return pkg;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  parseArgs({ args: process.argv.slice(2), options: {} }); // takes no options: refuse any
  const pkg = buildNpm();
  console.log(`built ${String(pkg.name)}@${String(pkg.version)} into ${outDir}`);
  console.log(`exports: ${Object.keys(pkg.exports as object).join(", ")}`);
}
