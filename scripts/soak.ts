/**
 * `npm run soak -- --minutes N [--scale S]`: run every primitive's multi-worker scenarios (S1–S7
 * events, S9 MCS, mutex stress, S10 LockCnt, S11, S13 semaphore, untimed wake-ups), plain and
 * chaos futex, in Node, Deno and Bun in turn, with a new chaos seed each run, until N minutes
 * have passed. Prints one line per run and a total of worker rounds (each ends in the
 * scenario's invariant checks: mutual exclusion, counters, visibility, final words) and
 * failures. Exits non-zero if any run failed.
 *
 * Each run goes through the test matrix (scripts/test_matrix.ts): the test results come from its
 * --json summary (read from the runners' JUnit reports), and the worker rounds from the
 * diagnostics channel the scenarios' runWorkers publishes on, recorded by the preload
 * tests/support/worker_rounds.ts. Nothing is scraped from the test output.
 */

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { MatrixSummary } from "./test_matrix.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { values: opts } = parseArgs({
  args: process.argv.slice(2),
  options: { minutes: { type: "string", default: "10" }, scale: { type: "string", default: "1" } },
});
const positive = (name: "minutes" | "scale"): number => {
  const v = Number(opts[name]);
  if (!(v > 0)) throw new RangeError(`--${name} must be a positive number (got ${opts[name]})`);
  return v;
};
const minutes = positive("minutes");
const scale = positive("scale");
const files = ["tests/event_scenarios.test.ts", "tests/lock_scenarios.test.ts"];
const runtimes = ["node", "deno", "bun"];
const work = mkdtempSync(join(tmpdir(), "futex-soak-"));

interface RunResult {
  passed: number;
  failed: number;
  rounds: number;
  failures: string[];
  note?: string;
}

function runOnce(rt: string, seed: number, k: number): Promise<RunResult> {
  const summaryFile = join(work, `summary-${k}.json`);
  const roundsFile = join(work, `rounds-${k}.jsonl`);
  return new Promise((resolve, reject) => {
    const args = [
      join(root, "build", "scripts", "test_matrix.js"),
      "--only",
      rt,
      "--json",
      summaryFile,
      "--preload",
      "tests/support/worker_rounds.ts",
      ...files,
    ];
    const child = spawn(process.execPath, args, {
      cwd: root,
      env: {
        ...process.env,
        FUTEX_TEST_SEED: String(seed),
        FUTEX_TEST_SCALE: String(scale),
        FUTEX_WORKER_ROUNDS_FILE: roundsFile,
      },
      stdio: ["ignore", "ignore", "ignore"],
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const rounds = existsSync(roundsFile)
        ? readFileSync(roundsFile, "utf8").split("\n").filter(Boolean).reduce((s, l) => s + (JSON.parse(l) as { rounds: number }).rounds, 0)
        : 0;
      if (!existsSync(summaryFile)) {
        resolve({ passed: 0, failed: 1, rounds, failures: [], note: `the test matrix exited with ${code} without a summary` });
        return;
      }
      const s = JSON.parse(readFileSync(summaryFile, "utf8")) as MatrixSummary;
      resolve({
        passed: s.passed,
        failed: s.failed,
        rounds,
        failures: s.rows.flatMap((r) => [...r.failures, ...(r.note ? [r.note] : [])]),
      });
    });
  });
}

const t0 = performance.now();
const deadline = t0 + minutes * 60_000;
let runs = 0, passed = 0, failed = 0, rounds = 0;
console.log(`soak: ${minutes} min, scale ${scale}, runtimes ${runtimes.join("/")}, files ${files.join(" ")}`);
try {
  while (performance.now() < deadline) {
    const rt = runtimes[runs % runtimes.length];
    const seed = 1 + runs;
    const r = await runOnce(rt, seed, runs);
    runs++;
    passed += r.passed;
    failed += r.failed;
    rounds += r.rounds;
    const mins = ((performance.now() - t0) / 60_000).toFixed(1);
    console.log(`[${mins} min] run ${runs} ${rt} seed ${seed}: ${r.passed} passed, ${r.failed} failed, ${r.rounds} worker rounds`);
    for (const f of [...r.failures, ...(r.note ? [r.note] : [])]) console.log(`  failed: ${f}`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`soak done: ${runs} runs in ${((performance.now() - t0) / 60_000).toFixed(1)} min, ${rounds} worker rounds, scenario tests ${passed} passed, ${failed} failed`);
console.log(failed === 0 ? "zero invariant violations" : `${failed} failing scenario test(s)`);
process.exitCode = failed === 0 ? 0 : 1;
