/**
 * Build the npm package into npm/ — what dnt would do, with TypeScript's own compiler (dnt lives
 * on JSR, which these machines cannot reach):
 *   1. type-check and emit ESM + .d.ts for every JSR export of deno.json (and what they import),
 *      against the ES and DOM libs only — no Node types, so the package stays runtime-neutral;
 *   2. write package.json: `exports` generated from deno.json's exports (each with `types` and
 *      `default`), `types`, `engines`, `sideEffects`, README and LICENSE.
 * Tests against the emitted package run in tests/package/package.check.ts.
 *
 * Usage (after `tsc -p .`): node build/scripts/build_npm.js
 */

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

/** The repository root (two levels above build/scripts/). */
export const root: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Where the package is emitted. */
export const outDir: string = join(root, "npm");

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

/** `./x.ts` → `./x` (without extension), for the emitted .js / .d.ts pair. */
function stem(entry: string): string {
  return entry.replace(/\.ts$/, "");
}

/** Build npm/ and return the package.json written. */
export function buildNpm(): Record<string, unknown> {
  const deno = readDenoJson();
  const dev = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Record<string, unknown>;
  rmSync(outDir, { recursive: true, force: true });

  // Export entries, plus modules loaded by URL rather than import (Bun's helper worker).
  const byUrl = ["adapters/native/bun_call_worker.ts"];
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

  const exportsMap: Record<string, { types: string; default: string }> = {};
  for (const [key, entry] of Object.entries(deno.exports)) {
    const s = stem(entry);
    for (const ext of [".js", ".d.ts"]) {
      if (!existsSync(join(outDir, `${s}${ext}`))) throw new Error(`the build did not emit ${s}${ext}`);
    }
    exportsMap[key] = { types: `${s}.d.ts`, default: `${s}.js` };
  }

  const pkg: Record<string, unknown> = {
    name: deno.name,
    version: deno.version,
    description: dev.description,
    license: deno.license,
    type: "module",
    exports: exportsMap,
    main: exportsMap["."].default,
    types: exportsMap["."].types,
    engines: { node: ">=20" },
    // mod.js installs the default futex (the Atomics one) when it is evaluated.
    sideEffects: [exportsMap["."].default],
    files: ["**/*.js", "**/*.d.ts", "README.md", "LICENSE"],
    keywords: ["futex", "atomics", "sharedarraybuffer", "worker", "mutex", "semaphore", "event", "qemu", "deno", "bun"],
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
