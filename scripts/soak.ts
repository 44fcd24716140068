/**
 * `npm run soak -- --minutes N [--scale S]`: run every primitive's multi-worker scenarios (S1–S7
 * events, S9 MCS, mutex stress, S10 LockCnt, S11, S13 semaphore, untimed wake-ups), plain and
 * chaos futex, in Node, Deno and Bun in turn, with a new chaos seed each run, until N minutes
 * have passed. Prints one line per run and a total of worker rounds (each ends in the
 * scenario's invariant checks: mutual exclusion, counters, visibility, final words) and
 * failures. Exits non-zero if any run failed.
 */

import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : dflt;
  if (!(v > 0)) throw new RangeError(`--${name} must be a positive number (got ${process.argv[i + 1]})`);
  return v;
};
const minutes = arg("minutes", 10);
const scale = arg("scale", 1);
const files = ["tests/event_scenarios.test.ts", "tests/lock_scenarios.test.ts"];
const runtimes = ["node", "deno", "bun"];

function runOnce(rt: string, seed: number): Promise<{ passed: number; failed: number; rounds: number; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, "build", "scripts", "test_matrix.js"), "--only", rt, ...files], {
      cwd: root,
      env: { ...process.env, FUTEX_TEST_SEED: String(seed), FUTEX_TEST_SCALE: String(scale) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (out += b.toString()));
    child.on("close", () => {
      const last = /^(\d+) passed, (\d+) failed$/m.exec(out);
      const rounds = [...out.matchAll(/soak: rounds=(\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
      resolve({ passed: Number(last?.[1] ?? 0), failed: last ? Number(last[2]) : 1, rounds, out });
    });
  });
}

const t0 = performance.now();
const deadline = t0 + minutes * 60_000;
let runs = 0, passed = 0, failed = 0, rounds = 0;
console.log(`soak: ${minutes} min, scale ${scale}, runtimes ${runtimes.join("/")}, files ${files.join(" ")}`);
while (performance.now() < deadline) {
  const rt = runtimes[runs % runtimes.length];
  const seed = 1 + runs;
  const r = await runOnce(rt, seed);
  runs++;
  passed += r.passed;
  failed += r.failed;
  rounds += r.rounds;
  const mins = ((performance.now() - t0) / 60_000).toFixed(1);
  console.log(`[${mins} min] run ${runs} ${rt} seed ${seed}: ${r.passed} passed, ${r.failed} failed, ${r.rounds} worker rounds`);
  if (r.failed > 0) console.log(r.out.split("\n").filter((l) => /not ok|\(fail\)|FAILED|watchdog|Error/.test(l)).join("\n"));
}
console.log(`soak done: ${runs} runs in ${((performance.now() - t0) / 60_000).toFixed(1)} min, ${rounds} worker rounds, scenario tests ${passed} passed, ${failed} failed`);
console.log(failed === 0 ? "zero invariant violations" : `${failed} failing scenario test(s)`);
process.exitCode = failed === 0 ? 0 : 1;
