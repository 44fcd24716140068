/**
 * The futex contract every primitive is written against, plus the helper all protocols share:
 * monotonic deadlines. (The spin that runs before a sleep is core/spin.ts.)
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
