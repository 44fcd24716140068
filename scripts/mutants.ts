/**
 * Mutation check: break each protocol with a pitfall QEMU's code guards against (events:
 * util/qemu-thread-posix.c; LockCnt: util/lockcnt.c) or a classic futex-mutex mistake, and show
 * that the test suite notices — a failing assertion, or a hang that runs into a bounded wait or a
 * watchdog. Each mutant is applied to a scratch copy of the sources, compiled, and
 * the named test files are run under Node.
 *
 * Usage (after `tsc -p .`): node build/scripts/mutants.js [name-substring ...]
 * Prints one line per mutant and exits non-zero if any mutant survives.
 */

import { spawnSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

interface Mutant {
  name: string;
  file: string;
  /** [search, replace] pairs; every search string must occur. */
  edits: [string, string][];
  tests: string[];
}

const mutants: Mutant[] = [
  {
    name: "event: reset as a plain store of FREE",
    file: "core/event.ts",
    edits: [["Atomics.or(this.#view, 0, EV_FREE);", "Atomics.store(this.#view, 0, EV_FREE);"]],
    tests: ["tests/event_scenarios.test.ts"],
  },
  {
    name: "event: set wakes one instead of all",
    file: "core/event.ts",
    edits: [["this.#futex.wakeAll(view, 0);", "this.#futex.wakeOne(view, 0);"]],
    tests: ["tests/event_scenarios.test.ts"],
  },
  {
    name: "event: wait trusts a wake",
    file: "core/event.ts",
    edits: [[
      "this.#futex.wait(view, 0, EV_BUSY, futexTimeout(left)); // sleeps only while still BUSY",
      "this.#futex.wait(view, 0, EV_BUSY, futexTimeout(left)); return true;",
    ]],
    tests: ["tests/event_scenarios.test.ts"],
  },
  {
    name: "lockcnt: no baton wake when leaving without the lock",
    file: "core/lockcnt.ts",
    edits: [["if (this.#waited) this.#wakeOne();", ""]],
    tests: ["tests/lock_scenarios.test.ts"],
  },
  {
    name: "lockcnt: lock after a sleep marks LOCKED, not WAITING",
    file: "core/lockcnt.ts",
    edits: [
      ["if (this.#waited) step = WAITING;", ""],
      ["if (this.#waited) lockBits = WAITING;", ""],
    ],
    tests: ["tests/lock_scenarios.test.ts"],
  },
  {
    name: "mutex: unlock wakes only when the state was 1",
    file: "core/mutex.ts",
    edits: [
      ["if (old === MUTEX_LOCKED) return; // nobody sleeps: no futex call", "if (old === MUTEX_LOCKED) { this.#futex.wakeOne(view, 0); return; }"],
      ["      Atomics.store(view, 0, MUTEX_UNLOCKED);\n      this.#futex.wakeOne(view, 0);", "      Atomics.store(view, 0, MUTEX_UNLOCKED);"],
    ],
    tests: ["tests/lock_scenarios.test.ts", "tests/mutex.test.ts"],
  },
  {
    name: "semaphore: no surplus wake when permits remain behind WAITERS",
    file: "core/semaphore.ts",
    edits: [["if (now < 0 && (now & COUNT) > 0) this.#futex.wakeOne(this.#view, 0);", "void now;"]],
    tests: ["tests/lock_scenarios.test.ts"],
  },
  {
    name: "semaphore: acquire never marks waiters",
    file: "core/semaphore.ts",
    edits: [[
      "const seen = Atomics.compareExchange(view, 0, v, SEMAPHORE_WAITERS); // announce: releases must wake",
      "const seen = v;",
    ], [
      "this.#futex.wait(view, 0, SEMAPHORE_WAITERS, futexTimeout(left)); // sleeps only while empty and marked",
      "this.#futex.wait(view, 0, v, futexTimeout(left));",
    ]],
    tests: ["tests/lock_scenarios.test.ts", "tests/semaphore.test.ts"],
  },
];

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const { positionals: filters } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: {} });
let survived = 0;

for (const m of mutants) {
  if (filters.length && !filters.some((f) => m.name.includes(f))) continue;
  const dir = mkdtempSync(join(tmpdir(), "futex-mutant-"));
  try {
    for (const p of ["core", "adapters", "tests", "scripts", "mod.ts", "testing.ts", "tsconfig.json", "package.json"]) {
      cpSync(join(root, p), join(dir, p), { recursive: true });
    }
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
    let src = readFileSync(join(dir, m.file), "utf8");
    for (const [from, to] of m.edits) {
      if (!src.includes(from)) throw new Error(`mutant "${m.name}": ${m.file} no longer contains ${JSON.stringify(from)}`);
      src = src.split(from).join(to);
    }
    writeFileSync(join(dir, m.file), src);
    const tsconfig = JSON.parse(readFileSync(join(dir, "tsconfig.json"), "utf8"));
    tsconfig.include = tsconfig.include.filter((p: string) => p !== "scripts");
    writeFileSync(join(dir, "tsconfig.json"), JSON.stringify(tsconfig));
    const tsc = spawnSync(process.execPath, [join(root, "node_modules/typescript/bin/tsc"), "-p", dir], { encoding: "utf8" });
    if (tsc.status !== 0) throw new Error(`mutant "${m.name}" does not compile:\n${tsc.stdout}${tsc.stderr}`);
    const t0 = performance.now();
    const files = m.tests.map((t) => join(dir, "build", t.replace(/\.ts$/, ".js")));
    const run = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...files], {
      encoding: "utf8",
      timeout: 300_000,
      env: { ...process.env, FUTEX_TEST_SCALE: process.env.FUTEX_TEST_SCALE ?? "0.25" },
    });
    const out = run.stdout ?? "";
    const failedTests = [...out.matchAll(/^not ok \d+ - (.*)$/gm)].map((x) => x[1]);
    const caught = run.status !== 0 || failedTests.length > 0;
    if (!caught) survived++;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(
      `${caught ? "CAUGHT  " : "SURVIVED"} ${m.name} (${secs} s)` +
        (failedTests.length ? `\n         failing: ${failedTests.join("; ")}` : run.signal ? `\n         killed: ${run.signal}` : ""),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
console.log(survived === 0 ? "every mutant was caught" : `${survived} mutant(s) survived`);
process.exitCode = survived === 0 ? 0 : 1;
