/**
 * Mutation check: break each protocol the way its known pitfalls describe (QEMU's util/event.c
 * and util/lockcnt.c comments, Drepper's "Futexes Are Tricky", and the lost wakeups this project
 * found itself) and show that the test suite notices — a failing assertion, or a hang that runs
 * into a bounded wait or a stall watchdog. Edits are made to the code itself (each search string
 * must occur exactly as written), and the protocol loops exist once (core/contended.ts drives
 * them), so each mutant breaks the sync and the async path alike. By default each is run against
 * the async scenario variants only (test names matching "async"), which shows that the async
 * path, not only the sync one, catches it.
 *
 * Usage (after `tsc -p .`): node build/scripts/mutants.js [name-substring ...]
 * Prints one line per mutant (and the tests that failed) and exits non-zero if any survives.
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
  /** Run only the tests whose names match (node --test-name-pattern). */
  pattern?: string;
}

const scenarios = ["tests/lock_scenarios.test.ts"];
const ASYNC = "async";

const mutants: Mutant[] = [
  {
    name: "event: reset as a plain store of FREE (QEMU util/event.c: reset must not turn BUSY into FREE)",
    file: "core/event.ts",
    edits: [["Atomics.or(this.#view, 0, EV_FREE);", "Atomics.store(this.#view, 0, EV_FREE);"]],
    tests: ["tests/event_scenarios.test.ts"],
    pattern: ASYNC,
  },
  {
    name: "event: set wakes one instead of all",
    file: "core/event.ts",
    edits: [["Atomics.exchange(view, 0, EV_SET) === EV_BUSY) {\n      this.#futex.wakeAll(view, 0);", "Atomics.exchange(view, 0, EV_SET) === EV_BUSY) {\n      this.#futex.wakeOne(view, 0);"]],
    tests: ["tests/event_scenarios.test.ts"],
    pattern: ASYNC,
  },
  {
    name: "event: wait trusts a wake",
    file: "core/event.ts",
    edits: [["    const view = this.view;\n    let v = Atomics.load(view, 0); // any return", "    if (this.slept) return STEP_TRUE;\n    const view = this.view;\n    let v = Atomics.load(view, 0); // any return"]],
    tests: ["tests/event_scenarios.test.ts"],
    pattern: ASYNC,
  },
  {
    name: "lockcnt: no baton wake when leaving without the lock",
    file: "core/lockcnt.ts",
    edits: [["    if (this.slept) this.futex.wakeOne(this.view, 0);\n    return result;", "    return result;"]],
    tests: scenarios,
    pattern: ASYNC,
  },
  {
    name: "lockcnt: lock after a sleep marks LOCKED, not WAITING (the models' NO_REMARK)",
    file: "core/lockcnt.ts",
    edits: [["if (this.slept) this.lockBits = WAITING;", ""]],
    tests: scenarios,
    pattern: ASYNC,
  },
  {
    name: "mutex: unlock wakes only when the state was 1",
    file: "core/mutex.ts",
    edits: [
      ["      record.holder = undefined;\n      return; // nobody sleeps: no futex call", "      record.holder = undefined;\n      this.#futex.wakeOne(view, 0);\n      return;"],
      ["      Atomics.store(view, 0, MUTEX_UNLOCKED);\n      this.#futex.wakeOne(view, 0);", "      Atomics.store(view, 0, MUTEX_UNLOCKED);"],
    ],
    tests: scenarios,
    pattern: ASYNC,
  },
  {
    name: "mutex: a woken locker takes the lock as 1, not 2",
    file: "core/mutex.ts",
    edits: [["if (state === MUTEX_UNLOCKED && !this.slept) {", "if (state === MUTEX_UNLOCKED) {"]],
    tests: scenarios,
    pattern: ASYNC,
  },
  {
    name: "mutex: a give-up (timeout, abort) passes no baton",
    file: "core/mutex.ts",
    edits: [["    if (Atomics.load(this.view, 0) !== MUTEX_CONTENDED) this.futex.wakeOne(this.view, 0);", ""]],
    tests: [...scenarios, "tests/async_misuse.test.ts"],
    pattern: ASYNC,
  },
  {
    name: "semaphore: acquire never marks waiters",
    file: "core/semaphore.ts",
    edits: [
      ["const seen = Atomics.compareExchange(view, 0, v, SEMAPHORE_WAITERS); // announce: releases must wake", "const seen = v;"],
      ["this.expected = SEMAPHORE_WAITERS; // sleep only while empty and marked", "this.expected = v;"],
    ],
    tests: scenarios,
    pattern: ASYNC,
  },
  {
    name: "semaphore: no surplus wake when permits remain behind WAITERS",
    file: "core/semaphore.ts",
    edits: [["if (now < 0 && (now & COUNT) > 0) futex.wakeOne(view, 0);", "void now;"]],
    tests: scenarios,
    pattern: ASYNC,
  },
  {
    name: "semaphore: a give-up (timeout, abort) passes no baton",
    file: "core/semaphore.ts",
    edits: [["    if (Atomics.load(this.view, 0) !== SEMAPHORE_WAITERS) this.futex.wakeOne(this.view, 0);", ""]],
    tests: [...scenarios, "tests/async_misuse.test.ts"],
    pattern: ASYNC,
  },
  {
    name: "semaphore: a woken acquirer takes its permit without re-marking WAITERS (the planted acquireAsync case)",
    file: "core/semaphore.ts",
    edits: [["const want = this.slept ? (count - 1) | SEMAPHORE_WAITERS : v - 1;", "const want = v - 1;"]],
    tests: scenarios,
    pattern: ASYNC,
  },
  {
    name: "rules: a blocking wait beside this thread's pending async wait is not refused",
    file: "core/contended.ts",
    edits: [["if (refuseBesideAsync && record.asyncWaits > 0) throw besideAsync(where, record);", ""]],
    tests: ["tests/same_thread.test.ts"],
  },
  {
    name: "atomics: an aborted async wait flushes its orphan with a broadcast",
    file: "adapters/atomics.ts",
    edits: [["      settle(\"ok\"); // the caller re-checks", "      Atomics.notify(view, index);\n      settle(\"ok\"); // the caller re-checks"]],
    tests: ["tests/async_misuse.test.ts"],
  },
  {
    name: "atomics: an orphan that took a wake does not pass it on",
    file: "adapters/atomics.ts",
    edits: [["if (v === \"ok\") Atomics.notify(view, index, 1);", "void v;"]],
    tests: ["tests/async_misuse.test.ts"],
  },
  {
    name: "condition: the sequence is read after the mutex is unlocked (Rust's condvar reads it before)",
    file: "core/condition.ts",
    edits: [
      ["    w.seen = Atomics.load(this.#view, 0); // before the unlock: a notify after it changes the word\n    w.slept = false;\n    mutex.unlock();", "    w.slept = false;\n    mutex.unlock();\n    w.seen = Atomics.load(this.#view, 0);"],
      ["    w.seen = Atomics.load(this.#view, 0); // before the unlock\n    mutex.unlock();", "    mutex.unlock();\n    w.seen = Atomics.load(this.#view, 0);"],
    ],
    tests: ["tests/condition.test.ts"],
    pattern: "reads the sequence",
  },
  {
    name: "condition: notifyOne wakes before it increments the sequence",
    file: "core/condition.ts",
    edits: [["    Atomics.add(this.#view, 0, 1);\n    this.#futex.wakeOne(this.#view, 0);", "    this.#futex.wakeOne(this.#view, 0);\n    Atomics.add(this.#view, 0, 1);"]],
    tests: ["tests/condition_rwlock_scenarios.test.ts"],
    pattern: "increment, then wake",
  },
  {
    name: "condition: a give-up after a notify passes no wake on",
    file: "core/condition.ts",
    edits: [["    if (Atomics.load(this.view, 0) !== this.seen) this.futex.wakeOne(this.view, 0);", ""]],
    tests: ["tests/condition.test.ts"],
    pattern: "aborted waitAsync",
  },
  {
    name: "rwlock: a writer sleeps without setting WRITERS_WAITING",
    file: "core/rwlock.ts",
    edits: [
      ["      if ((s & RW_WRITERS_WAITING) === 0) {\n        const seen = Atomics.compareExchange(view, 0, s, s | RW_WRITERS_WAITING);\n        if (seen !== s) {\n          s = seen;\n          continue;\n        }\n      }\n      this.others", "      this.others"],
      ["if (isUnlocked(s) || (s & RW_WRITERS_WAITING) === 0) continue;", "if (isUnlocked(s)) continue;"],
    ],
    tests: ["tests/condition_rwlock_scenarios.test.ts"],
    pattern: `${ASYNC}|writer asleep`,
  },
  {
    name: "rwlock: a reader ignores WRITERS_WAITING (no writer preference)",
    file: "core/rwlock.ts",
    edits: [["const isReadLockable = (s: number): boolean => (s & RW_MASK) < RW_MAX_READERS && (s & WAITING) === 0;", "const isReadLockable = (s: number): boolean => (s & RW_MASK) < RW_MAX_READERS && (s & RW_READERS_WAITING) === 0;"]],
    tests: ["tests/rwlock.test.ts"],
    pattern: "writer preference",
  },
  {
    name: "rwlock: readUnlock does not wake a waiting writer",
    file: "core/rwlock.ts",
    edits: [["    if (isUnlocked(now) && (now & RW_WRITERS_WAITING) !== 0) this.#words.wakeWriterOrReaders(now);", ""]],
    tests: ["tests/condition_rwlock_scenarios.test.ts"],
    pattern: `${ASYNC}|writer asleep`,
  },
  {
    name: "rwlock: a writer's give-up (timeout, abort) passes no wake",
    file: "core/rwlock.ts",
    edits: [["    if (isUnlocked(s) || (s & RW_WRITERS_WAITING) === 0) this.words.wakeWriter();", "    void s;"]],
    tests: ["tests/rwlock.test.ts"],
    pattern: "aborted writeLockAsync",
  },
  {
    name: "rwlock: with readers and writers waiting an unlock wakes only a writer",
    file: "core/rwlock.ts",
    edits: [["      s = RW_READERS_WAITING; // we cannot know", "      return; // we cannot know"]],
    tests: ["tests/rwlock.test.ts", "tests/condition_rwlock_scenarios.test.ts"],
    pattern: `one writer woken|${ASYNC}`,
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
      if (src.split(from).length !== 2) throw new Error(`mutant "${m.name}": ${m.file} must contain ${JSON.stringify(from)} exactly once`);
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
    const filter = m.pattern ? [`--test-name-pattern=${m.pattern}`] : [];
    const run = spawnSync(process.execPath, ["--test", "--test-reporter=tap", ...filter, ...files], {
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
