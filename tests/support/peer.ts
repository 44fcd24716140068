/**
 * The C peer (tests/native/peer.c): compile it with the system C compiler and read its
 * "ok key=value …" lines. Used by the interop tests and by the benchmarks (scripts/bench*.ts),
 * from the sources or from build/.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root (the directory holding tests/native/peer.c), found from this file upward. */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "tests", "native", "peer.c"))) {
    const up = dirname(dir);
    if (up === dir) throw new Error("tests/native/peer.c not found above " + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
})();

/** Compile peer.c (cc -O2) into a temporary directory: the binary's path, or why it cannot be built. */
export function compilePeer(): string | { skip: string } {
  const out = join(mkdtempSync(join(tmpdir(), "futex-peer-")), "peer");
  const r = spawnSync("cc", ["-O2", "-Wall", "-o", out, join(repoRoot, "tests/native/peer.c"), "-lpthread"], { encoding: "utf8" });
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
