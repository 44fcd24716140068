/**
 * The give-up baton and the drivers around it (core/contended.ts), the wake-before-store
 * orderings that only a waker delayed after its wake exposes (the chaos futex's after-wake
 * delay), and the Atomics futex's orphan bookkeeping. Each edit is one a careful reviewer could
 * make while "simplifying"; tests/give_up_batons.test.ts sets the baton cases up exactly (the
 * word moved by a fast-path locker between a waiter's wake and its give-up).
 */

import type { Mutant } from "./mutant.ts";

const batons = ["tests/give_up_batons.test.ts"];
const scenarios = ["tests/lock_scenarios.test.ts"];
const CHAOS = "chaos futex";

export const mutants: Mutant[] = [
  {
    name: "baton: a Mutex give-up passes the wake on only when the word is 0 (not when a fast-path locker holds it as 1)",
    file: "core/mutex.ts",
    edits: [["if (Atomics.load(this.view, 0) !== MUTEX_CONTENDED) this.futex.wakeOne(this.view, 0);", "if (Atomics.load(this.view, 0) === MUTEX_UNLOCKED) this.futex.wakeOne(this.view, 0);"]],
    tests: batons,
    pattern: "Mutex, async aborted",
  },
  {
    name: "baton: a Semaphore give-up passes the wake on only while WAITERS is clear (not at count|WAITERS)",
    file: "core/semaphore.ts",
    edits: [["if (Atomics.load(this.view, 0) !== SEMAPHORE_WAITERS) this.futex.wakeOne(this.view, 0);", "if (Atomics.load(this.view, 0) >= 0) this.futex.wakeOne(this.view, 0);"]],
    tests: batons,
    pattern: "Semaphore, async aborted",
  },
  {
    name: "baton: a LockCnt give-up passes the wake on only when the lock bits are FREE (not LOCKED by a fast-path locker)",
    file: "core/lockcnt.ts",
    edits: [["if ((Atomics.load(this.view, 0) & STATE_MASK) !== WAITING) this.futex.wakeOne(this.view, 0);", "if ((Atomics.load(this.view, 0) & STATE_MASK) === FREE) this.futex.wakeOne(this.view, 0);"]],
    tests: batons,
    pattern: "LockCnt, async aborted",
  },
  {
    name: "baton: a RwLock writer's give-up passes the wake on only when the lock is free (not when a fast-path reader holds it)",
    file: "core/rwlock.ts",
    edits: [["if (isUnlocked(s) || (s & RW_WRITERS_WAITING) === 0) this.words.wakeWriter();", "if (isUnlocked(s)) this.words.wakeWriter();"]],
    tests: batons,
    pattern: "RwLock, async aborted",
  },
  {
    name: "driver: an aborted async wait leaves without its give-up (the wake it holds is dropped)",
    file: "core/contended.ts",
    edits: [["        w.giveUp();\n        throw signal.reason;", "        throw signal.reason;"]],
    tests: batons,
    pattern: "async aborted, atomics",
  },
  {
    name: "driver: the abort path does not drop the thread's pending-async count (later blocking waits are refused as deadlocks)",
    file: "core/contended.ts",
    edits: [["  } finally {\n    record.asyncWaits--;\n  }", "  } finally {\n    if (!signal?.aborted) record.asyncWaits--; // \"the abort path already cleaned up\"\n  }"]],
    tests: batons,
    pattern: "after one of its async waits there was aborted",
  },
  {
    name: "driver: a blocking timeout after a sleep skips giveUp()",
    file: "core/contended.ts",
    edits: [["    if (left <= 0) {\n      if (w.slept) w.giveUp();\n      return false;\n    }\n    if (record.holder", "    if (left <= 0) {\n      return false;\n    }\n    if (record.holder"]],
    tests: batons,
    equivalent: "the deadline is checked only right after a step that returned SLEEP, and a step after a sleep re-marks the word (2, WAITERS, WAITING, WRITERS_WAITING) so the next release wakes: no wake is held at that point (the abort path, which has no step in between, is the one that owes one)",
  },
  {
    name: "driver: an async timeout after a sleep skips giveUp()",
    file: "core/contended.ts",
    edits: [["      if (left <= 0) {\n        if (w.slept) w.giveUp();\n        return false;\n      }", "      if (left <= 0) {\n        return false;\n      }"]],
    tests: batons,
    equivalent: "as for the blocking driver: the deadline is checked only after a fresh step returned SLEEP, which re-marked the word; the timed tests of tests/give_up_batons.test.ts pass with it",
  },
  {
    name: "driver: a blocking lock of a word this thread holds is not refused (it sleeps until its own unlock: never)",
    file: "core/contended.ts",
    edits: [["    if (record.holder !== undefined) throw holdsIt(where);\n", ""]],
    tests: ["tests/mutex.test.ts", "tests/lockcnt.test.ts", "tests/rwlock.test.ts"],
    pattern: "Deadlock|deadlock|holds",
    equivalent: "dead code today: Mutex.lock, LockCnt.lock/inc and RwLock.readLock/writeLock each refuse a word this thread holds before they call runBlocking, with their own message, and nothing between that check and the driver's can change the holder",
  },
  {
    name: "order: Mutex unlock wakes before it stores 0 (the woken locker re-checks, sees 2, sleeps again)",
    file: "core/mutex.ts",
    edits: [["      Atomics.store(view, 0, MUTEX_UNLOCKED);\n      this.#futex.wakeOne(view, 0);", "      this.#futex.wakeOne(view, 0);\n      Atomics.store(view, 0, MUTEX_UNLOCKED);"]],
    tests: scenarios,
    pattern: CHAOS,
  },
  {
    name: "order: AutoResetEvent set wakes before it publishes the set (the woken waiter sees no set and sleeps again)",
    file: "core/autoreset.ts",
    edits: [["      const seen = Atomics.compareExchange(view, 0, v, v + 1);\n      if (seen === v) {\n        if (p < w) this.#futex.wakeOne(view, 0);\n        return true;", "      if (p < w) this.#futex.wakeOne(view, 0);\n      const seen = Atomics.compareExchange(view, 0, v, v + 1);\n      if (seen === v) {\n        return true;"]],
    tests: ["tests/wake_order.test.ts"],
    pattern: "AutoResetEvent",
  },
  {
    name: "order: the Barrier's last arrival wakes before it trips the generation (the woken parties see the old one and sleep again)",
    file: "core/barrier.ts",
    edits: [["      if (Atomics.compareExchange(this.#gen, 0, g, (g + 1) & GEN) !== g) throw brokenError(where);\n      if (n > 1) this.#futex.wakeAll(this.#gen, 0);", "      if (n > 1) this.#futex.wakeAll(this.#gen, 0);\n      if (Atomics.compareExchange(this.#gen, 0, g, (g + 1) & GEN) !== g) throw brokenError(where);"]],
    tests: ["tests/toolkit_scenarios.test.ts"],
    pattern: "barrier|Barrier",
  },
  {
    name: "order: Mutex unlock wakes before it stores 0 (deterministic: checked at the wake)",
    file: "core/mutex.ts",
    edits: [["      Atomics.store(view, 0, MUTEX_UNLOCKED);\n      this.#futex.wakeOne(view, 0);", "      this.#futex.wakeOne(view, 0);\n      Atomics.store(view, 0, MUTEX_UNLOCKED);"]],
    tests: ["tests/wake_order.test.ts"],
    pattern: "Mutex.unlock",
  },
  {
    name: "order: the Barrier's last arrival wakes before it trips the generation (deterministic: checked at the wake)",
    file: "core/barrier.ts",
    edits: [["      if (Atomics.compareExchange(this.#gen, 0, g, (g + 1) & GEN) !== g) throw brokenError(where);\n      if (n > 1) this.#futex.wakeAll(this.#gen, 0);", "      if (n > 1) this.#futex.wakeAll(this.#gen, 0);\n      if (Atomics.compareExchange(this.#gen, 0, g, (g + 1) & GEN) !== g) throw brokenError(where);"]],
    tests: ["tests/wake_order.test.ts"],
    pattern: "Barrier trip",
  },
  {
    name: "order: Barrier.reset wakes before it moves the generation on",
    file: "core/barrier.ts",
    edits: [["    Atomics.store(this.#count, 0, 0);\n    let g = Atomics.load(this.#gen, 0);", "    Atomics.store(this.#count, 0, 0);\n    this.#futex.wakeAll(this.#gen, 0);\n    let g = Atomics.load(this.#gen, 0);"], ["      g = seen;\n    }\n    this.#futex.wakeAll(this.#gen, 0);\n  }", "      g = seen;\n    }\n  }"]],
    tests: ["tests/wake_order.test.ts"],
    pattern: "Barrier.reset",
  },
  {
    name: "order: ManualResetEvent set wakes the BUSY sleepers before it publishes SET",
    file: "core/event.ts",
    edits: [["    if (Atomics.load(view, 0) !== EV_SET && Atomics.exchange(view, 0, EV_SET) === EV_BUSY) {\n      this.#futex.wakeAll(view, 0);\n    }", "    if (Atomics.load(view, 0) === EV_BUSY) this.#futex.wakeAll(view, 0);\n    Atomics.store(view, 0, EV_SET);"]],
    tests: ["tests/wake_order.test.ts"],
    pattern: "ManualResetEvent",
  },
  {
    name: "order: Condition notifyAll wakes before it increments the sequence",
    file: "core/condition.ts",
    edits: [["    Atomics.add(this.#view, 0, 1);\n    this.#futex.wakeAll(this.#view, 0);", "    this.#futex.wakeAll(this.#view, 0);\n    Atomics.add(this.#view, 0, 1);"]],
    tests: ["tests/wake_order.test.ts"],
    pattern: "notifyAll",
  },
  {
    name: "order: a RwLock writer's wake goes out before the notify sequence moves",
    file: "core/rwlock.ts",
    edits: [["    Atomics.add(this.notify, 0, 1); // before the wake: a writer that read the old sequence does not sleep\n    this.futex.wakeOne(this.notify, 0);", "    this.futex.wakeOne(this.notify, 0);\n    Atomics.add(this.notify, 0, 1);"]],
    tests: ["tests/wake_order.test.ts"],
    pattern: "RwLock",
  },
  {
    name: "order: the Once runner's end wakes the queued waiters before it publishes COMPLETE",
    file: "core/once.ts",
    edits: [[
      "    const old = Atomics.exchange(this.#view, 0, state);\n    if (old === ONCE_QUEUED) this.#futex.wakeAll(this.#view, 0);\n    else if",
      "    if (Atomics.load(this.#view, 0) === ONCE_QUEUED) this.#futex.wakeAll(this.#view, 0);\n    const old = Atomics.exchange(this.#view, 0, state);\n    if (old === ONCE_QUEUED) void 0;\n    else if",
    ]],
    tests: ["tests/wake_order.test.ts"],
    pattern: "Once",
  },
  {
    name: "atomics: orphans keyed by 4 × index without the view's byteOffset",
    file: "adapters/atomics.ts",
    edits: [
      ["get(view.byteOffset + 4 * index)", "get(4 * index)"],
      ["const at = view.byteOffset + 4 * index;", "const at = 4 * index;"],
    ],
    tests: ["tests/orphan_keys.test.ts"],
  },
  {
    name: "atomics: orphans keyed by the view's byteOffset without the index",
    file: "adapters/atomics.ts",
    edits: [
      ["get(view.byteOffset + 4 * index)", "get(view.byteOffset)"],
      ["const at = view.byteOffset + 4 * index;", "const at = view.byteOffset;"],
    ],
    tests: ["tests/orphan_keys.test.ts"],
  },
  {
    name: "atomics: a blocking wait beside this thread's orphan on the word does not sleep in slices",
    file: "adapters/atomics.ts",
    edits: [["if (orphanTotal === 0 || limit <= ORPHAN_SLICE_MS || orphansAt(view, index) === 0) {", "if (true) {"]],
    tests: ["tests/orphan_keys.test.ts"],
  },
  {
    name: "chaos: the after-wake delay runs before the wake (the woken side can no longer run first)",
    file: "adapters/chaos.ts",
    edits: [[
      "      if (random() < wakeAllRate) inner.wakeAll(view, index);\n      else inner.wakeOne(view, index);\n      maybeDelay(afterWake); // the woken side runs first",
      "      maybeDelay(afterWake);\n      if (random() < wakeAllRate) inner.wakeAll(view, index);\n      else inner.wakeOne(view, index);",
    ]],
    tests: ["tests/chaos.test.ts"],
  },
];
