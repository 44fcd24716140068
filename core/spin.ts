/**
 * Spinning before a sleep: the policy every blocking wait shares (async waits never spin — they
 * must not hold the event loop).
 *
 *   spinWhileEqual  tight checks, one pause apart: for waiters of a *signal* (events, latches,
 *                   barriers), who want to see it at once
 *   spinUntil       tight checks until a predicate holds: for the RwLock, whose waiters stop
 *                   on more than one state change
 *   spinBackoff     checks spaced 1, 2, 4 … 64 pauses apart: for waiters of a *lock* (Mutex,
 *                   LockCnt, Semaphore, the robust mutex), who should leave the cache line to
 *                   the holder
 *
 * The budget (`spin`, pause units) is fixed per primitive. A learned budget (halve after a spin
 * that ran out, restore after one that paid off) was measured and dropped: it made no difference
 * to the contended locks, and in event ping-pong it found a stable bad state — once both sides
 * sleep, neither side's spin can pay off, so both budgets stay small (docs/benchmarks.md).
 *
 * A spin only ever delays a sleep: the protocol re-reads the word after it, whatever it saw, so
 * the budget changes speed, never correctness.
 *
 * @module
 */

/**
 * The default `spin` of every primitive: pause units (one `Atomics.pause`, ≈ 22–25 ns on this
 * project's test machine; one check in a tight spin) a blocking wait may spend before it sleeps.
 * Spinning turns a hand-off into a few hundred nanoseconds when both threads own a core, and
 * costs at most `spin` pause units per wait when they do not.
 */
export const DEFAULT_SPINS = 1000;

type PauseFn = (iterationNumber?: number) => void;
const atomicsPause: PauseFn | undefined =
  typeof (Atomics as unknown as { pause?: PauseFn }).pause === "function"
    ? (Atomics as unknown as { pause: PauseFn }).pause
    : undefined;

/** Whether this engine has `Atomics.pause` (Deno, Bun; not Node 20). */
export const hasAtomicsPause: boolean = atomicsPause !== undefined;

/**
 * Check `view[index]` until `stop(value)` holds or `spins` checks were made (with `Atomics.pause`
 * between them where the engine has it); return the last value seen. The RwLock's spin: its
 * waiters stop on several states (unlocked, or a sleeper announced), not on one change.
 */
export function spinUntil(view: Int32Array, index: number, spins: number, stop: (v: number) => boolean): number {
  let v = Atomics.load(view, index);
  for (let i = 0; i < spins && !stop(v); i++) {
    if (atomicsPause !== undefined) atomicsPause(i);
    v = Atomics.load(view, index);
  }
  return v;
}

/** Written by the pause emulation so the engine cannot drop the loop. */
let pauseSink = 0;

/**
 * Spend `units` pause units: `Atomics.pause()` each (≈ 22–25 ns on this project's test machine),
 * or, where the engine has none (Node < 22), a short dependent loop of similar length.
 */
function pauseFor(units: number): void {
  if (atomicsPause !== undefined) {
    for (let j = 0; j < units; j++) atomicsPause();
  } else {
    let x = pauseSink;
    for (let j = units * 32; j > 0; j--) x = (x + j) | 0;
    pauseSink = x;
  }
}

/**
 * The spin policy hook for events and counters: check `view[index]` up to `spins` times (with
 * `Atomics.pause` between checks where the engine has it) and return the first value that
 * differs from `seen`, or `seen` itself if it never changed. The caller decides from that value
 * whether to sleep. Tight on purpose: whoever waits for a *signal* wants to see it at once.
 *
 * @example
 * ```ts
 * import { spinWhileEqual } from "@futex/sync";
 * const view = new Int32Array(new SharedArrayBuffer(4));
 * spinWhileEqual(view, 0, 0, 100); // 0: nobody changed the word
 * ```
 */
export function spinWhileEqual(view: Int32Array, index: number, seen: number, spins: number): number {
  for (let i = 0; i < spins; i++) {
    const v = Atomics.load(view, index);
    if (v !== seen) return v;
    if (atomicsPause !== undefined) atomicsPause(i);
  }
  return seen;
}

/** The longest pause between two checks of {@link spinBackoff}, in pause units. */
export const BACKOFF_CAP = 64;

/**
 * The spin policy hook for locks: like {@link spinWhileEqual}, but the checks are spaced by an
 * exponential backoff (1, 2, 4, … up to {@link BACKOFF_CAP} pause units between loads) and
 * `spins` bounds the pause units spent in all. A lock waiter that re-reads the word less often
 * leaves its cache line to the holder, which unlocks and re-locks without a transfer in between
 * (glibc's adaptive mutex and WebKit's ParkingLot back off for the same reason); measured on the
 * contended-lock benchmark (docs/benchmarks.md) this is the difference between trailing a
 * naive futex mutex and beating it. Returns the first value that differs from `seen`, or `seen`.
 *
 * @example
 * ```ts
 * import { spinBackoff } from "@futex/sync";
 * const view = new Int32Array(new SharedArrayBuffer(4));
 * view[0] = 1;
 * spinBackoff(view, 0, 1, 100); // 1: still held after ~100 pause units
 * ```
 */
export function spinBackoff(view: Int32Array, index: number, seen: number, spins: number): number {
  let gap = 1;
  for (let spent = 0; spent < spins;) {
    const d = gap < spins - spent ? gap : spins - spent;
    pauseFor(d);
    spent += d;
    const v = Atomics.load(view, index);
    if (v !== seen) return v;
    if (gap < BACKOFF_CAP) gap <<= 1;
  }
  return seen;
}
