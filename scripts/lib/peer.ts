/**
 * The C peer (tests/native/peer.c): compile it with the system C compiler and read its
 * "ok key=value …" lines. Used by the interop tests and by the benchmarks (scripts/bench/), from
 * the sources or from build/.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The repository root: the nearest directory above this file holding tests/native/peer.c (from
 * the sources or from build/), else two levels up (a copy of the tests and scripts/lib without
 * the C sources).
 */
export const repoRoot: string = (() => {
  for (let dir = here; ; dir = dirname(dir)) {
    if (existsSync(join(dir, "tests", "native", "peer.c"))) return dir;
    if (dirname(dir) === dir) return join(here, "..", "..");
  }
})();

/** Compile peer.c (cc -O2) into a temporary directory: the binary's path, or why it cannot be built. */
export function compilePeer(): string | { skip: string } {
  const source = join(repoRoot, "tests/native/peer.c");
  if (!existsSync(source)) return { skip: `no ${source} here (the C peer is in the source tree)` };
  const out = join(mkdtempSync(join(tmpdir(), "futex-peer-")), "peer");
  const r = spawnSync("cc", ["-O2", "-Wall", "-o", out, source, "-lpthread"], { encoding: "utf8" });
  if (r.error) return { skip: `no C compiler: ${r.error.message} (install gcc to run the C peer)` };
  if (r.status !== 0) throw new Error(`cc failed on tests/native/peer.c:\n${r.stderr}`);
  return out;
}

/** The fields of the first "ok key=value …" line of `stdout` (values as strings), or undefined. */
export function okFields(stdout: string): Record<string, string> | undefined {
  const line = stdout.split("\n").find((l) => l.startsWith("ok "));
  if (line === undefined) return undefined;
  return Object.fromEntries(line.slice(3).split(" ").filter(Boolean).map((kv) => {
    const eq = kv.indexOf("=");
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }));
}
