/**
 * The protocol mutants: each known pitfall of a core/ protocol (QEMU's util/event.c and
 * util/lockcnt.c comments, Drepper's "Futexes Are Tricky", the lost wakeups this project found
 * itself), built into the code and run against the tests that must catch it. By default each is
 * run against the async scenario variants only (test names matching "async"), which shows that
 * the async path, not only the sync one, catches it; the lock-scenario mutants of the Mutex,
 * LockCnt and Semaphore also run as "[blocking workers only]" twins against the all-blocking
 * variants, whose waiters spin before they sleep (core/spin.ts).
 */

import type { Mutant } from "./mutant.ts";

const scenarios = ["tests/lock_scenarios.test.ts"];
const ASYNC = "async";

export const mutants: Mutant[] = [
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
    name: "lockcnt: unlock stores its guessed word instead of CAS-ing it (a WAITING mark and visits are lost)",
    file: "core/lockcnt.ts",
    edits: [[
      "      const old = Atomics.compareExchange(view, 0, v, (v + add) & ~STATE_MASK);",
      "      Atomics.store(view, 0, (v + add) & ~STATE_MASK);\n      const old = v;",
    ]],
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
    name: "mutex: a woken locker takes the lock as 1, not 2 (two sleepers, one thread, deterministic)",
    file: "core/mutex.ts",
    edits: [["if (state === MUTEX_UNLOCKED && !this.slept) {", "if (state === MUTEX_UNLOCKED) {"]],
    tests: ["tests/mutex.test.ts"],
    pattern: "two sleeping lockers",
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
    name: "robust (deno, native): waiters never check the owner's liveness",
    file: "core/robust.ts",
    edits: [["if (tid === 0 || ((!this.#checked || w === this.#lastSlept) && this.#check(tid))) {", "if (tid === 0) {"]],
    tests: ["tests/robust.test.ts"],
    pattern: "TID reuse|thread ends|expired slice",
    runtime: "deno",
  },
  {
    name: "robust (bun, native): liveness checked before the first sleep only, not after an expired slice",
    file: "core/robust.ts",
    edits: [["(!this.#checked || w === this.#lastSlept)", "!this.#checked"]],
    tests: ["tests/robust.test.ts"],
    pattern: "expired slice",
    runtime: "bun",
  },
  {
    name: "robust (deno, native): the taker of a dead owner's lock does not set OWNER_DIED (cleared too early)",
    file: "core/robust.ts",
    edits: [["s.tid | ROBUST_OWNER_DIED | (w & ROBUST_WAITERS) | extra", "s.tid | (w & ROBUST_WAITERS) | extra"]],
    tests: ["tests/robust.test.ts"],
    pattern: "dead owner|without markConsistent",
    runtime: "deno",
  },
  {
    name: "robust (bun, native + C peer): unlock ignores OWNER_DIED and releases instead of NOT_RECOVERABLE",
    file: "core/robust.ts",
    edits: [["if ((old & ROBUST_OWNER_DIED) !== 0) { // unlocked without markConsistent()", "if (false) { // mutant: unlocked without markConsistent()"]],
    tests: ["tests/robust_interop.test.ts"],
    pattern: "unrecoverable",
    runtime: "bun",
  },
  {
    name: "mutex (deno, native futex): woken locker takes the lock as 1, not 2",
    file: "core/mutex.ts",
    edits: [["if (state === MUTEX_UNLOCKED && !this.slept) {", "if (state === MUTEX_UNLOCKED) {"]],
    // The native scenarios rarely have two sleepers at once since lock waiters back off; two
    // blocking sleepers in workers, confirmed asleep, catch it deterministically.
    tests: ["tests/robust.test.ts"],
    pattern: "plain Mutex on the native futex",
    runtime: "deno",
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
  {
    name: "barrier: the generation read after the count (a party can sleep on the next generation)",
    file: "core/barrier.ts",
    edits: [
      ["    const g = Atomics.load(this.#gen, 0); // the generation FIRST, then the count (module comment)\n    if (g < 0) throw brokenError(where);\n", ""],
      ["      if (!last) return g;", "      const g = Atomics.load(this.#gen, 0);\n      if (g < 0) throw brokenError(where);\n      if (!last) return g;"],
    ],
    tests: ["tests/barrier.test.ts", "tests/toolkit_scenarios.test.ts"],
    pattern: "barrier|leader|generation|party|parties",
  },
  {
    name: "barrier: a give-up does not break the generation (the others wait for a party that left)",
    file: "core/barrier.ts",
    edits: [["    const seen = Atomics.compareExchange(this.#gen, 0, g, g | BARRIER_BROKEN);\n    if (seen === g) {\n      this.#futex.wakeAll(this.#gen, 0);\n      throw error;\n    }", "    const seen = Atomics.load(this.#gen, 0);\n    if (seen === g) throw error;"]],
    tests: ["tests/barrier.test.ts"],
  },
  {
    name: "once: COMPLETE stored before fn ends",
    file: "core/once.ts",
    edits: [
      ["    w.mustRun = false;\n    let result: unknown;", "    w.mustRun = false;\n    this.#finish(ONCE_COMPLETE);\n    let result: unknown;"],
      ["    this.#finish(ONCE_COMPLETE);\n    return true;\n  }\n\n  /**\n   * Like {@link run}", "    return true;\n  }\n\n  /**\n   * Like {@link run}"],
    ],
    tests: ["tests/once.test.ts", "tests/toolkit_scenarios.test.ts"],
    pattern: "once|run|fn|Once",
  },
  {
    name: "once: the runner's end wakes nobody",
    file: "core/once.ts",
    edits: [["    if (old === ONCE_QUEUED) this.#futex.wakeAll(this.#view, 0);", "    if (old === ONCE_QUEUED) void 0;"]],
    tests: ["tests/toolkit_scenarios.test.ts"],
    pattern: "once",
  },
  {
    name: "latch: the opening countDown wakes one instead of all",
    file: "core/latch.ts",
    edits: [["if (v < 0 && (v & COUNT) === k) this.#futex.wakeAll(view, 0);", "if (v < 0 && (v & COUNT) === k) this.#futex.wakeOne(view, 0);"]],
    tests: ["tests/toolkit_scenarios.test.ts"],
    pattern: "latch",
  },
  {
    name: "latch: a waiter sleeps without marking WAITERS",
    file: "core/latch.ts",
    edits: [["const seen = Atomics.compareExchange(view, 0, v, v | LATCH_WAITERS); // announce: the opening countDown must wake", "const seen = v;"], ["        v |= LATCH_WAITERS;\n", ""]],
    tests: ["tests/toolkit_scenarios.test.ts"],
    pattern: "latch",
  },
  {
    name: "autoreset: a set wakes nobody",
    file: "core/autoreset.ts",
    edits: [["        if (p < w) this.#futex.wakeOne(view, 0);\n", ""]],
    tests: ["tests/toolkit_scenarios.test.ts"],
    pattern: "auto-reset",
  },
  {
    name: "autoreset: a give-up passes no wake on",
    file: "core/autoreset.ts",
    edits: [["        if (p > 0 && w > 0) this.futex.wakeOne(view, 0); // pass on the wake this caller may have taken\n", ""]],
    tests: ["tests/autoreset.test.ts", "tests/toolkit_scenarios.test.ts"],
    pattern: "auto-reset|passes the set on|give-up baton",
  },
];

// The blocking path spins before it sleeps (core/spin.ts), the async path never does: every
// lock-scenario mutant of the Mutex, LockCnt and Semaphore also runs against the scenarios
// whose workers are all blocking (test names ending "(plain futex)" / "(chaos futex)").
const SYNC = "\\((plain|chaos) futex\\)$";
for (const m of [...mutants]) {
  if (m.tests === scenarios && m.pattern === ASYNC && /^(mutex|lockcnt|semaphore):/.test(m.name)) {
    mutants.push({ ...m, name: `${m.name} [blocking workers only]`, pattern: SYNC });
  }
}

