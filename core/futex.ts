/**
 * The futex contract every primitive is written against, plus the two helpers all protocols
 * share: monotonic deadlines and the bounded spin that runs before a sleep.
 *
 * A futex is "sleep while this 32-bit word still holds the value I saw; wake sleepers on this
 * word". Nothing more: a wait may return "ok" spuriously, so every protocol loops on the word's
 * value and never trusts a wake. One word is driven by exactly one futex kind (an
 * `Atomics.notify` does not wake an OS futex waiter and the reverse).
 *
 * @module
 */

/** What a futex wait reports. "ok" means "woken, or spuriously returned": re-check the word. */
export type WaitResult = "ok" | "not-equal" | "timed-out";

/**
 * Which sleepers a futex's wakes reach. Two futexes of one domain wake each other's sleepers;
 * across domains nothing is woken:
 * - `"atomics"`: `Atomics.wait` / `Atomics.notify` (threads of one process, SharedArrayBuffer);
 * - `"os-private"`: OS futex calls with the process-private flag (threads of one process);
 * - `"os-shared"`: OS futex calls keyed by the memory page (every process mapping it).
 * A custom futex names its own domain.
 */
export type FutexDomain = "atomics" | "os-private" | "os-shared" | (string & {});

/**
 * A futex: wait on / wake a 32-bit word addressed as `view[index]`.
 *
 * @example
 * ```ts
 * import { atomicsFutex } from "@futex/sync";
 * const view = new Int32Array(new SharedArrayBuffer(4));
 * atomicsFutex.wait(view, 0, 1, 10); // "not-equal": the word is 0, not 1
 * ```
 */
export interface Futex {
  /** "atomics", "chaos(atomics)", "linux-futex", … — for messages and benchmark tables. */
  readonly name: string;
  /**
   * Which sleepers its wakes reach (see {@link FutexDomain}). Handles record it, and attaching
   * with a futex of another domain is refused. Wrappers (chaos, counting) forward the inner one's.
   */
  readonly domain: FutexDomain;
  /** True only for shared (non-private) OS futexes that work across processes. */
  readonly crossProcess: boolean;
  /**
   * True when the word must live in a `SharedArrayBuffer` (as `Atomics.wait` requires). A
   * native futex on mapped memory accepts a plain `ArrayBuffer` view of that memory.
   */
  readonly requiresSharedArrayBuffer: boolean;
  /**
   * Sleep while `view[index] === expected`, at most `timeoutMs` (undefined = no limit).
   * Returns "not-equal" at once if the word differs; may return "ok" spuriously.
   */
  wait(view: Int32Array, index: number, expected: number, timeoutMs?: number): WaitResult;
  /**
   * The same without blocking the caller's thread. Holds the process alive while pending and
   * releases that hold when it settles. If `signal` aborts, it settles early with "ok"
   * (callers re-check the word and the signal).
   */
  waitAsync(
    view: Int32Array,
    index: number,
    expected: number,
    timeoutMs?: number,
    signal?: AbortSignal,
  ): Promise<WaitResult>;
  /** Wake at most one sleeper on the word. */
  wakeOne(view: Int32Array, index: number): void;
  /** Wake every sleeper on the word. */
  wakeAll(view: Int32Array, index: number): void;
  /**
   * Robust locks only (core/robust.ts): this thread's OS identity and a liveness check of other
   * threads. Absent on futexes that cannot name an OS thread (the Atomics futex); a native futex
   * on an OS without such a check throws UnsupportedPlatformError from it.
   */
  ownerLiveness?(): OwnerLiveness;
}

/**
 * What a robust lock needs from its futex: who this thread is, and whether a recorded owner
 * still exists. Per thread (each worker's futex answers for its own thread).
 */
export interface OwnerLiveness {
  /** This process's id. */
  readonly pid: number;
  /** This thread's OS id (Linux: gettid), below 2^30. */
  readonly tid: number;
  /**
   * Longest single sleep of a robust waiter, in ms: it re-checks its owner's liveness whenever
   * a sleep this long ends without the word changing.
   */
  readonly sliceMs: number;
  /**
   * False only when thread `tid` of process `pid` certainly no longer exists (Linux: tgkill →
   * ESRCH). `pid` 0 means "not recorded": then `tid` is looked up in every process.
   */
  isAlive(pid: number, tid: number): boolean;
}

/** The clock all deadlines use: monotonic, so wall-clock jumps neither extend nor cut waits. */
export function monotonicNow(): number {
  return performance.now();
}

/**
 * An absolute monotonic deadline for `timeoutMs` from now; `Infinity` for no limit. A loop that
 * re-waits after a spurious wake asks {@link remainingMs} again, so it never waits longer in
 * total than the caller asked for.
 *
 * @example
 * ```ts
 * import { deadlineAfter, remainingMs } from "@futex/sync";
 * const d = deadlineAfter(50);
 * remainingMs(d) <= 50; // true
 * ```
 */
export function deadlineAfter(timeoutMs: number | undefined): number {
  return timeoutMs === undefined || timeoutMs === Infinity ? Infinity : monotonicNow() + timeoutMs;
}

/** Milliseconds left until `deadline` (≤ 0 once it has passed; `Infinity` for none). */
export function remainingMs(deadline: number): number {
  return deadline === Infinity ? Infinity : deadline - monotonicNow();
}

/** The remaining time as a futex timeout argument: `undefined` for "no limit". */
export function futexTimeout(remaining: number): number | undefined {
  return remaining === Infinity ? undefined : remaining;
}

/**
 * How many `Atomics.load` checks a blocking wait makes before it sleeps. Spinning turns a
 * hand-off into a few hundred nanoseconds when both threads own a core, and costs at most
 * `spins` loads when they do not. Async waits never spin (they must not hold the event loop).
 */
export const DEFAULT_SPINS = 1000;

type PauseFn = (iterationNumber?: number) => void;
const atomicsPause: PauseFn | undefined =
  typeof (Atomics as unknown as { pause?: PauseFn }).pause === "function"
    ? (Atomics as unknown as { pause: PauseFn }).pause
    : undefined;

/** Whether this engine has `Atomics.pause` (Deno, Bun; not Node 20). */
export const hasAtomicsPause: boolean = atomicsPause !== undefined;

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

let defaultFutex: Futex | undefined;

/**
 * Choose the futex that primitives use when none is passed. The entry point sets it (`mod.ts`
 * installs the Atomics futex); core modules never pick one themselves.
 *
 * @example
 * ```ts
 * import { atomicsFutex, setDefaultFutex } from "@futex/sync";
 * setDefaultFutex(atomicsFutex);
 * ```
 */
export function setDefaultFutex(futex: Futex): void {
  defaultFutex = futex;
}

/** The futex primitives use when none is passed; throws if no entry point installed one. */
export function getDefaultFutex(): Futex {
  if (defaultFutex === undefined) {
    throw new TypeError(
      "no default futex is installed: import the primitives from the package entry point (@futex/sync / mod.ts), " +
        "or pass { futex } explicitly",
    );
  }
  return defaultFutex;
}
