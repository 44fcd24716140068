/**
 * The toolkit mutants: edits of the Barrier, Latch, Once, ManualResetEvent, Condition, RwLock
 * and robust Mutex that a careful reviewer could plausibly make — a give-up that forgets the race
 * it loses, a CAS "simplified" into a store, a broadcast narrowed to one wake, a bit dropped on a
 * transition — each run against the deterministic single-thread tests (scripted futexes, exact
 * interleavings from tests/support/interleave.ts) or, for the robust mutex, the native-futex
 * tests with several sleepers, that catch it.
 */

import type { Mutant } from "./mutant.ts";

const barrier = ["tests/barrier.test.ts"];

export const mutants: Mutant[] = [
  {
    name: "barrier: a give-up whose CAS finds the generation tripped throws BrokenBarrierError (the party was released)",
    file: "core/barrier.ts",
    edits: [["    if (tripped(g, seen)) return FOLLOWER;\n    throw brokenError(where);", "    throw brokenError(where);"]],
    tests: barrier,
    pattern: "already tripped",
  },
  {
    name: "barrier: the last arriver ignores a failed generation CAS (returns as leader over a break)",
    file: "core/barrier.ts",
    edits: [["      if (Atomics.compareExchange(this.#gen, 0, g, (g + 1) & GEN) !== g) throw brokenError(where);", "      Atomics.compareExchange(this.#gen, 0, g, (g + 1) & GEN);"]],
    tests: barrier,
    pattern: "right after the last arriver read it",
  },
  {
    name: "barrier: the trip wakes one party instead of all",
    file: "core/barrier.ts",
    edits: [["      if (n > 1) this.#futex.wakeAll(this.#gen, 0);", "      if (n > 1) this.#futex.wakeOne(this.#gen, 0);"]],
    tests: barrier,
  },
  {
    name: "barrier: a waitAsync that trips the barrier reports isLeader false",
    file: "core/barrier.ts",
    edits: [["    if (g < 0) return LEADER;\n    const w = new BarrierWait(", "    if (g < 0) return FOLLOWER;\n    const w = new BarrierWait("]],
    tests: barrier,
  },
  {
    name: "latch: countDown accepts k above the count",
    file: "core/latch.ts",
    edits: [["      if (k > count) {\n        throw new RangeError(", "      if (k > count && false) {\n        throw new RangeError("]],
    tests: ["tests/latch.test.ts"],
  },
  {
    name: "latch: the opening countDown keeps WAITERS (the open word is WAITERS | 0)",
    file: "core/latch.ts",
    edits: [["      const next = count === k ? 0 : v - k; // keeps WAITERS until the count reaches 0", "      const next = v - k;"]],
    tests: ["tests/latch.test.ts"],
  },
  {
    name: "once: a run() whose fn throws resets the word with a store, waking nobody (a queued waiter sleeps on)",
    file: "core/once.ts",
    edits: [["      result = fn();\n    } catch (e) {\n      this.#finish(ONCE_INCOMPLETE);", "      result = fn();\n    } catch (e) {\n      this.#record.holder = undefined;\n      Atomics.store(this.#view, 0, ONCE_INCOMPLETE);"]],
    tests: ["tests/once.test.ts"],
  },
  {
    name: "once: a rejected runAsync fn leaves the word RUNNING / QUEUED (waiters hang)",
    file: "core/once.ts",
    edits: [["      await fn();\n    } catch (e) {\n      this.#finish(ONCE_INCOMPLETE);", "      await fn();\n    } catch (e) {\n      this.#record.holder = undefined;"]],
    tests: ["tests/once.test.ts"],
    pattern: "rejected fn",
  },
  {
    name: "event: a waiter announces BUSY with a store, not a CAS (it can overwrite a set)",
    file: "core/event.ts",
    edits: [["        const old = Atomics.compareExchange(view, 0, EV_FREE, EV_BUSY); // announce: the next set must wake", "        Atomics.store(view, 0, EV_BUSY);\n        const old: number = EV_FREE;"]],
    tests: ["tests/event_unit.test.ts"],
  },
  {
    name: "event: set peeks at the word, then stores SET (a BUSY announced in between is not woken)",
    file: "core/event.ts",
    edits: [["    if (Atomics.load(view, 0) !== EV_SET && Atomics.exchange(view, 0, EV_SET) === EV_BUSY) {", "    const old = Atomics.load(view, 0);\n    Atomics.store(view, 0, EV_SET);\n    if (old === EV_BUSY) {"]],
    tests: ["tests/event_unit.test.ts"],
  },
  {
    name: "condition: a wait is over once the sequence is greater than the one read (not different: breaks at the wrap)",
    file: "core/condition.ts",
    edits: [["if (Atomics.load(this.view, 0) !== this.seen) return STEP_TRUE;", "if (Atomics.load(this.view, 0) > this.seen) return STEP_TRUE;"]],
    tests: ["tests/condition.test.ts"],
  },
  {
    name: "condition: notifyAll wakes one",
    file: "core/condition.ts",
    edits: [["    Atomics.add(this.#view, 0, 1);\n    this.#futex.wakeAll(this.#view, 0);", "    Atomics.add(this.#view, 0, 1);\n    this.#futex.wakeOne(this.#view, 0);"]],
    tests: ["tests/condition.test.ts"],
  },
  {
    name: "rwlock: a writer reads the notify sequence after its last look at the state (a wake in between is slept through)",
    file: "core/rwlock.ts",
    edits: [["      const seq = Atomics.load(this.words.notify, 0); // before the last look at the state\n      s = Atomics.load(view, 0);", "      s = Atomics.load(view, 0);\n      const seq = Atomics.load(this.words.notify, 0);"]],
    tests: ["tests/rwlock.test.ts"],
    pattern: "notify sequence before",
  },
  {
    name: "rwlock: a writer that slept takes the lock without keeping WRITERS_WAITING (the other sleeping writers)",
    file: "core/rwlock.ts",
    edits: [["s | RW_WRITE_LOCKED | this.others", "s | RW_WRITE_LOCKED"]],
    tests: ["tests/rwlock.test.ts"],
  },
  {
    name: "rwlock: writeUnlock wakes only when writers wait (readers queued behind the writer stay asleep)",
    file: "core/rwlock.ts",
    edits: [["    if ((now & WAITING) !== 0) this.#words.wakeWriterOrReaders(now);", "    if ((now & RW_WRITERS_WAITING) !== 0) this.#words.wakeWriterOrReaders(now);"]],
    tests: ["tests/rwlock.test.ts"],
  },
  {
    name: "rwlock: readUnlock tests 'last reader out' on the word before its decrement (never true)",
    file: "core/rwlock.ts",
    edits: [["    if (isUnlocked(now) && (now & RW_WRITERS_WAITING) !== 0) this.#words.wakeWriterOrReaders(now);", "    if (isUnlocked(s) && (now & RW_WRITERS_WAITING) !== 0) this.#words.wakeWriterOrReaders(now);"]],
    tests: ["tests/rwlock.test.ts"],
  },
  {
    name: "robust (deno, native): an unlock that makes the mutex not recoverable wakes one sleeper, not all",
    file: "core/robust.ts",
    edits: [["    Atomics.store(view, 0, ROBUST_NOT_RECOVERABLE);\n    futex.wakeAll(view, 0);", "    Atomics.store(view, 0, ROBUST_NOT_RECOVERABLE);\n    futex.wakeOne(view, 0);"]],
    tests: ["tests/robust.test.ts"],
    pattern: "wakes EVERY sleeper",
    runtime: "deno",
  },
  {
    name: "robust (bun, native): a woken locker takes the lock without WAITERS (its unlock wakes none of the other sleepers)",
    file: "core/robust.ts",
    edits: [["Atomics.compareExchange(view, 0, 0, this.slept ? s.tid | ROBUST_WAITERS : s.tid);", "Atomics.compareExchange(view, 0, 0, s.tid);"]],
    tests: ["tests/robust.test.ts"],
    pattern: "woken locker takes the lock with WAITERS",
    runtime: "bun",
  },
  {
    name: "robust (deno, native): markConsistent clears WAITERS with OWNER_DIED (the repaired unlock wakes nobody)",
    file: "core/robust.ts",
    edits: [["Atomics.compareExchange(view, 0, w, w & ~ROBUST_OWNER_DIED);", "Atomics.compareExchange(view, 0, w, w & ROBUST_TID_MASK);"]],
    tests: ["tests/robust.test.ts"],
    pattern: "clears OWNER_DIED only",
    runtime: "deno",
  },
];
