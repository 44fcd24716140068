/**
 * A chaos futex for tests: wraps a real futex and injects what the contract allows but a calm
 * machine rarely shows — spurious "ok" returns, random delays before and after sleeps and
 * wakes (widening every race window), and wake-one promoted to wake-all. The delay after a wake
 * returns lets the woken thread run first while the waker's next store lands late, so a protocol
 * that wakes before it stores (the sleeper re-checks, sees the old word and sleeps again) loses
 * its wakeup on any machine, not only on one whose scheduler happens to run the woken side first. A protocol that is
 * correct under the contract stays correct under chaos; one that trusts a wake does not.
 * Seeded, so a failing run can be replayed.
 *
 * @module
 */

import type { Futex, WaitResult } from "../core/futex.ts";

/** Knobs for {@link chaosFutex}; rates are probabilities per call. */
export interface ChaosOptions {
  /** PRNG seed (default 1): the same seed gives the same injected sequence per instance. */
  seed?: number;
  /** Probability that a wait returns "ok" at once without sleeping (default 0.2). */
  spuriousRate?: number;
  /** Probability of a random delay before a wait or wake and after a wait (default 0.1). */
  delayRate?: number;
  /**
   * Probability of a delay after a wake returns, before the waker goes on (default 0.1): the
   * woken side runs first and the waker's next store lands late.
   */
  afterWakeRate?: number;
  /** Longest injected delay in milliseconds (default 0.5). */
  maxDelayMs?: number;
  /** Probability that a wakeOne wakes everyone instead (default 0.1). */
  wakeAllRate?: number;
}

/**
 * A seeded PRNG (mulberry32) returning numbers in [0, 1): the chaos futex's source of
 * randomness, exported so stress tests can replay their own random choices.
 *
 * @example
 * ```ts
 * import { seededRandom } from "@futex/sync/testing";
 * const random = seededRandom(42);
 * random(); // the same sequence for the same seed
 * ```
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkRate(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
    throw new RangeError(`chaosFutex: ${name} must be a probability between 0 and 1 (got ${String(v)})`);
  }
  return v;
}

/**
 * Wrap `inner` (usually the Atomics futex) in chaos.
 *
 * @example
 * ```ts
 * import { ManualResetEvent, atomicsFutex } from "@futex/sync";
 * import { chaosFutex } from "@futex/sync/testing";
 * const ev = new ManualResetEvent({ futex: chaosFutex(atomicsFutex, { seed: 42 }) });
 * ```
 */
export function chaosFutex(inner: Futex, options: ChaosOptions = {}): Futex {
  const spurious = checkRate("spuriousRate", options.spuriousRate, 0.2);
  const delay = checkRate("delayRate", options.delayRate, 0.1);
  const wakeAllRate = checkRate("wakeAllRate", options.wakeAllRate, 0.1);
  const afterWake = checkRate("afterWakeRate", options.afterWakeRate, 0.1);
  const maxDelayMs = options.maxDelayMs ?? 0.5;
  if (typeof maxDelayMs !== "number" || !(maxDelayMs >= 0)) {
    throw new RangeError(`chaosFutex: maxDelayMs must be a number ≥ 0 (got ${String(maxDelayMs)})`);
  }
  const random = seededRandom(options.seed ?? 1);
  const sleeper = new Int32Array(new SharedArrayBuffer(4)); // private word nobody wakes
  const maybeDelay = (rate = delay): void => {
    if (random() < rate) Atomics.wait(sleeper, 0, 0, random() * maxDelayMs);
  };
  return Object.freeze({
    name: `chaos(${inner.name})`,
    domain: inner.domain,
    crossProcess: inner.crossProcess,
    requiresSharedArrayBuffer: inner.requiresSharedArrayBuffer,
    wait(view: Int32Array, index: number, expected: number, timeoutMs?: number): WaitResult {
      maybeDelay();
      if (random() < spurious) return "ok";
      const r = inner.wait(view, index, expected, timeoutMs);
      maybeDelay();
      return r;
    },
    waitAsync(
      view: Int32Array,
      index: number,
      expected: number,
      timeoutMs?: number,
      signal?: AbortSignal,
    ): Promise<WaitResult> {
      if (random() < spurious) {
        return new Promise<WaitResult>((resolve) => setTimeout(resolve, random() * maxDelayMs, "ok"));
      }
      return inner.waitAsync(view, index, expected, timeoutMs, signal);
    },
    wakeOne(view: Int32Array, index: number): void {
      maybeDelay();
      if (random() < wakeAllRate) inner.wakeAll(view, index);
      else inner.wakeOne(view, index);
      maybeDelay(afterWake); // the woken side runs first
    },
    wakeAll(view: Int32Array, index: number): void {
      maybeDelay();
      inner.wakeAll(view, index);
      maybeDelay(afterWake);
    },
  });
}
