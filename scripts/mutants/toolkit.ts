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
];
