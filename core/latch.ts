/**
 * Latch — a single-use countdown latch (java.util.concurrent.CountDownLatch; C++20
 * std::latch) on one futex word, with the semaphore's WAITERS bit (core/semaphore.ts) so the
 * last countDown wakes only if someone may sleep.
 *
 * The word: bits 0–30 the count, bit 31 WAITERS ("a waiter may sleep"). Read through an
 * Int32Array a word with WAITERS set is negative. States:
 *   n > 0            counting, nobody announced a sleep
 *   WAITERS | n > 0  counting, waiters may sleep
 *   0                open: waits return at once (WAITERS is always cleared with the count)
 *   WAITERS | 0 is no latch state: TypeError naming the value, the word left as it is.
 *
 * countDown(k): CAS count → count − k keeping WAITERS; at 0 the CAS stores a plain 0 and, if
 *   WAITERS was set, wakes ALL (every waiter is released; waking one would strand the rest —
 *   scripts/mutants.ts "latch: wakeOne"). k above the count: RangeError, nothing changed.
 * wait (step, one loop for wait() and waitAsync()): count 0 → done; no WAITERS → CAS it in
 *   (announce); sleep while the word is exactly the announced value; re-read after every
 *   return. A further countDown changes the word, so a sleeper that missed it re-steps.
 * give-up: nothing to pass on — the opening wake is a broadcast.
 *
 * Why the bit and not "always wake": the opening countDown makes no futex call when nobody
 * waits (a syscall with a native futex), and a waiter's announce is one CAS it makes only once
 * it would sleep anyway. tests/latch.test.ts counts the calls.
 *
 * @module
 */

import { ContendedWait, runAsync, runBlocking, STEP_SLEEP, STEP_TRUE } from "./contended.ts";
import type { Futex } from "./futex.ts";
import { spinWhileEqual } from "./spin.ts";
import {
  asyncOptions,
  type AsyncWaitOptions,
  attachedOptions,
  attachChecked,
  type AttachOptions,
  type CommonOptions,
  createSetup,
  refuseLiveWord,
  takeAttached,
} from "./primitive.ts";
import { checkCount, checkOptions, checkTimeout } from "./validate.ts";
import type { Placement, WordHandle, WordRecord } from "./word.ts";

/** The largest count a Latch can start from (31 bits). */
export const LATCH_MAX = 0x7fffffff;
/** Bit 31 of the word: a waiter may sleep. */
export const LATCH_WAITERS: number = 0x80000000 | 0;
const COUNT = 0x7fffffff;
const KIND = "Latch";

function corrupted(where: string, v: number): TypeError {
  return new TypeError(
    `${where}: the latch word holds ${v} (WAITERS with count 0), which is no latch state (a count, with or without ` +
      "the WAITERS bit, or 0 once open); something else wrote to it — a word must hold one primitive at a time",
  );
}

/** The wait loop (wait() and waitAsync() alike). */
class LatchWait extends ContendedWait {
  readonly view: Int32Array;
  readonly where: string;

  constructor(view: Int32Array, where: string) {
    super();
    this.view = view;
    this.where = where;
  }

  step(): number {
    const view = this.view;
    let v = Atomics.load(view, 0);
    if (v > 0 && !this.slept && this.spins > 0) v = spinWhileEqual(view, 0, v, this.spins);
    for (;;) {
      if (v === 0) return STEP_TRUE;
      if (v === LATCH_WAITERS) throw corrupted(this.where, v);
      if (v > 0) {
        const seen = Atomics.compareExchange(view, 0, v, v | LATCH_WAITERS); // announce: the opening countDown must wake
        if (seen !== v) {
          v = seen;
          continue;
        }
        v |= LATCH_WAITERS;
      }
      this.expected = v;
      return STEP_SLEEP;
    }
  }

  giveUp(): void {} // the opening wake is a broadcast: nothing to pass on
}

/** Options for `new Latch(count, ...)`. */
export interface LatchOptions extends Placement, CommonOptions {}

/**
 * A countdown latch shared between workers: `wait()` blocks until `countDown()` has been called
 * `count` times in all; then it stays open for ever (single use).
 *
 * @example
 * ```ts
 * import { Latch } from "@futex/sync";
 * const ready = new Latch(2);          // post ready.handle; Latch.from(handle) in workers
 * ready.countDown();
 * ready.countDown();                   // opens: wakes every waiter
 * ready.wait(1000);                    // true
 * await ready.waitAsync();             // true
 * ```
 */
export class Latch {
  readonly #view: Int32Array;
  readonly #futex: Futex;
  readonly #spins: number;
  readonly #record: WordRecord;
  #wait: LatchWait | undefined;
  /** Where the word lives: post it to a worker and attach with {@link Latch.from}. */
  readonly handle: WordHandle;

  /** Create a latch at `count` (a whole number ≥ 0; 0 is open), in a fresh word or at `{ buffer, byteOffset }`. */
  constructor(count: number, options?: LatchOptions) {
    const attached = takeAttached(options);
    if (attached === undefined) {
      checkOptions<LatchOptions>(options, `new ${KIND}`);
      checkCount(count, `new ${KIND}`, "count", 0, LATCH_MAX);
    }
    const setup = attached ?? createSetup(`new ${KIND}`, KIND, options);
    this.#view = setup.view;
    this.#futex = setup.futex;
    this.#spins = setup.spins;
    this.#record = setup.record;
    this.handle = Object.freeze(setup.handle);
    if (attached === undefined) {
      refuseLiveWord(`new ${KIND}`, KIND, setup, Atomics.load(this.#view, 0) < 0 ? "a latch with waiters" : undefined);
      Atomics.store(this.#view, 0, count);
    }
  }

  /**
   * Attach to an existing latch (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { Latch } from "@futex/sync";
   * const l = new Latch(3);
   * const same = Latch.from(l.handle); // in a worker: Latch.from(workerData.latch)
   * same.countDown();
   * l.count; // 2
   * ```
   */
  static from(handle: WordHandle, options?: AttachOptions): Latch {
    const setup = attachChecked(KIND, handle, options, (v) => v !== LATCH_WAITERS, "latch", "a count ≥ 0, with or without bit 31 WAITERS");
    return new Latch(0, attachedOptions(setup));
  }

  /** The remaining count (a snapshot); 0 once open. */
  get count(): number {
    return Atomics.load(this.#view, 0) & COUNT;
  }

  /**
   * Count down by `k` (default 1). Reaching 0 opens the latch and wakes every waiter (only if
   * one announced itself). Throws RangeError, changing nothing, if `k` exceeds the count.
   */
  countDown(k: number = 1): void {
    const where = `${KIND}.countDown`;
    checkCount(k, where, "k", 1, LATCH_MAX);
    const view = this.#view;
    let v = Atomics.load(view, 0);
    for (;;) {
      if (v === LATCH_WAITERS) throw corrupted(where, v);
      const count = v & COUNT;
      if (k > count) {
        throw new RangeError(`${where}: counting down by ${k} would take the count ${count} below zero; nothing changed`);
      }
      const next = count === k ? 0 : v - k; // keeps WAITERS until the count reaches 0
      const seen = Atomics.compareExchange(view, 0, v, next);
      if (seen === v) break;
      v = seen;
    }
    if (v < 0 && (v & COUNT) === k) this.#futex.wakeAll(view, 0);
  }

  /**
   * Block until the count reaches 0 (true) or `timeoutMs` passes (false; `wait(0)` only polls).
   * Spins briefly before sleeping.
   */
  wait(timeoutMs?: number): boolean {
    const where = `${KIND}.wait`;
    const timeout = checkTimeout(timeoutMs, where);
    const v = Atomics.load(this.#view, 0);
    if (v === 0) return true;
    if (timeout === 0) {
      if (v === LATCH_WAITERS) throw corrupted(where, v);
      return false;
    }
    const w = this.#wait ??= new LatchWait(this.#view, where);
    w.slept = false;
    w.spins = this.#spins;
    // The opening wake is a broadcast: a pending waitAsync of this thread cannot take ours.
    return runBlocking(w, this.#view, this.#futex, timeout, this.#record, false, where);
  }

  /**
   * Wait without blocking the thread: resolves true once the count reaches 0, false after
   * `timeout` ms; rejects with `signal.reason` on abort. Never spins.
   */
  async waitAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const where = `${KIND}.waitAsync`;
    const { timeout, signal } = asyncOptions(where, options);
    const v = Atomics.load(this.#view, 0);
    if (v === 0) return true;
    if (timeout === 0) {
      if (v === LATCH_WAITERS) throw corrupted(where, v);
      return false;
    }
    return runAsync(new LatchWait(this.#view, where), this.#view, this.#futex, timeout, signal, this.#record, where);
  }
}
