/**
 * LockCnt — QEMU's QemuLockCnt (util/lockcnt.c, futex variant): a visit counter and a lock in
 * one 32-bit word, for data that may be freed only when nobody visits.
 *
 * The word (bit-compatible with QEMU):
 *   bits 0–1  lock state: FREE 0 (unlocked) / LOCKED 1 (held, nobody sleeps) /
 *             WAITING 2 (held, sleepers may exist); 3 is invalid
 *   bits 2–31 visit count, in steps of 4
 *
 * The lock is Drepper's mutex2 in the low bits. The central helper `cmpxchgOrWait` tries the
 * fast path when the lock bits are FREE; otherwise it marks LOCKED→WAITING and sleeps while the
 * whole word is unchanged (any count change also ends the sleep), until it sees FREE again —
 * then the caller recomputes its target from the fresh word.
 *
 * Baton passing: a thread that slept may have consumed the wake meant to hand the lock on, so
 *   - when it later takes the lock it marks it WAITING, not LOCKED (others may sleep), and
 *   - when it finishes without the lock (inc, a failed decAndLock/decIfLock) it wakes one.
 * All wakes are single. `inc` passes a held lock when the count is already non-zero; `lock`
 * does not wait for visits to end (check `count === 0` under the lock before freeing).
 *
 * @module
 */

import { DeadlockError, NotHeldError } from "./errors.ts";
import { type Futex, spinWhileEqual } from "./futex.ts";
import {
  attachedOptions,
  attachChecked,
  type CommonOptions,
  createSetup,
  takeAttached,
} from "./primitive.ts";
import type { Placement, WordHandle } from "./word.ts";

/** Lock bits: unlocked. */
export const LOCKCNT_FREE = 0;
/** Lock bits: held, nobody sleeps. */
export const LOCKCNT_LOCKED = 1;
/** Lock bits: held, sleepers may exist. */
export const LOCKCNT_WAITING = 2;
/** Mask of the lock bits. */
export const LOCKCNT_STATE_MASK = 3;
/** One visit in the word. */
export const LOCKCNT_COUNT_STEP = 4;
/** The largest visit count (the word must stay a non-negative int32, as QEMU's signed compares need). */
export const LOCKCNT_MAX_COUNT: number = 2 ** 29 - 1;

const STATE_MASK = LOCKCNT_STATE_MASK;
const FREE = LOCKCNT_FREE, LOCKED = LOCKCNT_LOCKED, WAITING = LOCKCNT_WAITING;
const STEP = LOCKCNT_COUNT_STEP;
const MAX_WORD = LOCKCNT_MAX_COUNT * STEP;
const KIND = "LockCnt";

/** Options for `new LockCnt(...)`. */
export interface LockCntOptions extends Placement, CommonOptions {}

/**
 * A lock plus a visit counter, shared between workers.
 *
 * @example
 * ```ts
 * import { LockCnt } from "@futex/sync";
 * const lc = new LockCnt();                 // post lc.handle; LockCnt.from(handle) in workers
 * // visit without locking:
 * lc.inc(); try { read(shared); } finally { lc.dec(); }
 * // free when idle:
 * lc.lock(); try { if (lc.count === 0) free(shared); } finally { lc.unlock(); }
 * // free right after the last visit:
 * lc.inc(); read(shared); if (lc.decAndLock()) { free(shared); lc.unlock(); }
 * ```
 */
export class LockCnt {
  readonly #view: Int32Array;
  readonly #futex: Futex;
  readonly #spins: number;
  #held = false;
  // Out-parameters of #cmpxchgOrWait (sync only, so one pair per instance needs no allocation).
  #seen = 0;
  #waited = false;
  // One spin per operation: after a spin that ended in a lost CAS, announce and sleep.
  #spun = false;
  /** Where the word lives: post it to a worker and attach with {@link LockCnt.from}. */
  readonly handle: WordHandle;

  /** Create an idle LockCnt (word 0) in its own 4-byte SharedArrayBuffer or at `{ buffer, byteOffset }`. */
  constructor(options?: LockCntOptions) {
    const attached = takeAttached(options);
    const setup = attached ?? createSetup(`new ${KIND}`, KIND, options);
    this.#view = setup.view;
    this.#futex = setup.futex;
    this.#spins = setup.spins;
    this.handle = Object.freeze(setup.handle);
    if (attached === undefined) Atomics.store(this.#view, 0, 0);
  }

  /**
   * Attach to an existing LockCnt (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { LockCnt } from "@futex/sync";
   * import { workerData } from "node:worker_threads";
   * const lc = LockCnt.from(workerData.lockcnt);
   * ```
   */
  static from(handle: WordHandle, options?: CommonOptions): LockCnt {
    const setup = attachChecked(
      KIND,
      handle,
      options,
      (v) => v >= 0 && (v & STATE_MASK) !== 3,
      "LockCnt",
      "lock bits 0–2, count ≥ 0",
    );
    return new LockCnt(attachedOptions(setup));
  }

  /** Visits in progress (a snapshot; meaningful under the lock when checking for 0). */
  get count(): number {
    return Atomics.load(this.#view, 0) >>> 2;
  }

  /** Whether the lock bits say someone holds the lock (a snapshot). */
  get isLocked(): boolean {
    return (Atomics.load(this.#view, 0) & STATE_MASK) !== FREE;
  }

  /** Whether this instance holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /**
   * With the lock bits FREE, CAS `#seen`→`newIfFree` (true on success). Otherwise announce and
   * sleep until the lock bits are FREE, then return false with `#seen` fresh.
   */
  #cmpxchgOrWait(newIfFree: number): boolean {
    const view = this.#view;
    let seen = this.#seen;
    if ((seen & STATE_MASK) === FREE) {
      const old = Atomics.compareExchange(view, 0, seen, newIfFree);
      if (old === seen) {
        this.#seen = newIfFree;
        return true;
      }
      seen = old;
    }
    while ((seen & STATE_MASK) !== FREE) {
      const state = seen & STATE_MASK;
      if (state === LOCKED) {
        if (!this.#spun && this.#spins > 0) { // spin once per operation before announcing contention
          this.#spun = true;
          seen = spinWhileEqual(view, 0, seen, this.#spins);
          continue;
        }
        const want = seen - LOCKED + WAITING; // LOCKED→WAITING, count kept: the unlocker must wake
        const old = Atomics.compareExchange(view, 0, seen, want);
        seen = old === seen ? want : old;
      } else if (state === WAITING) {
        this.#waited = true;
        this.#futex.wait(view, 0, seen); // sleeps while the whole word is unchanged
        seen = Atomics.load(view, 0); // never trust the wake
      } else {
        this.#seen = seen;
        throw new TypeError(`${KIND}: the word holds ${seen}, whose lock bits are 3 (invalid): the word was corrupted`);
      }
    }
    this.#seen = seen;
    return false;
  }

  #wakeOne(): void {
    this.#futex.wakeOne(this.#view, 0);
  }

  #beginWait(): void {
    this.#seen = Atomics.load(this.#view, 0);
    this.#waited = false;
    this.#spun = false;
  }

  /**
   * Start a visit. If the count is 0, waits for a lock holder to unlock first; a non-zero count
   * is incremented even while the lock is held. Throws DeadlockError if this instance holds the
   * lock and the count is 0 (the wait could never end).
   */
  inc(): void {
    this.#beginWait();
    if (this.#held && this.#seen < STEP) {
      throw new DeadlockError(`${KIND}.inc: this instance holds the lock and the count is 0; use incAndUnlock() or unlock() first`);
    }
    const view = this.#view;
    for (;;) {
      const seen = this.#seen;
      if (seen >= STEP) {
        if (seen >= MAX_WORD) throw new RangeError(`${KIND}.inc: the count is at its maximum ${LOCKCNT_MAX_COUNT}`);
        const old = Atomics.compareExchange(view, 0, seen, seen + STEP);
        if (old === seen) break;
        this.#seen = old;
      } else if (this.#cmpxchgOrWait(STEP)) { // fast path (0, free) → (1, free)
        break;
      }
    }
    if (this.#waited) this.#wakeOne(); // we took a wake meant to hand on the lock: pass it on
  }

  /** End a visit. Throws RangeError, changing nothing, if the count is already 0. */
  dec(): void {
    const view = this.#view;
    let v = Atomics.load(view, 0);
    for (;;) {
      if (v < STEP) throw new RangeError(`${KIND}.dec: the count is 0; call dec() once per inc()`);
      const old = Atomics.compareExchange(view, 0, v, v - STEP);
      if (old === v) return;
      v = old;
    }
  }

  /**
   * End a visit; if it was the last one, return true holding the lock (the count cannot become
   * non-zero again until unlock). Otherwise return false.
   */
  decAndLock(): boolean {
    this.#beginWait();
    if (this.#seen < STEP) throw new RangeError(`${KIND}.decAndLock: the count is 0; call it once per inc()`);
    if (this.#held && this.#seen < 2 * STEP) {
      throw new DeadlockError(`${KIND}.decAndLock: this instance holds the lock and this is the last visit; use dec() under the lock`);
    }
    const view = this.#view;
    let lockBits = LOCKED;
    for (;;) {
      const seen = this.#seen;
      if (seen >= 2 * STEP) {
        const old = Atomics.compareExchange(view, 0, seen, seen - STEP);
        if (old === seen) break;
        this.#seen = old;
      } else {
        if (seen < STEP && (seen & STATE_MASK) === FREE) {
          throw new RangeError(`${KIND}.decAndLock: the count dropped to 0 under us; each visit must end once`);
        }
        if (this.#cmpxchgOrWait(lockBits)) { // (1, free) → (0, locked or waiting)
          this.#held = true;
          return true;
        }
        if (this.#waited) lockBits = WAITING;
      }
    }
    if (this.#waited) this.#wakeOne();
    return false;
  }

  /**
   * If this is the only visit (count 1), end it and return true holding the lock. Otherwise
   * change nothing and return false.
   */
  decIfLock(): boolean {
    this.#beginWait();
    if (this.#seen < STEP) throw new RangeError(`${KIND}.decIfLock: the count is 0; call it during a visit`);
    if (this.#held && this.#seen < 2 * STEP) {
      throw new DeadlockError(`${KIND}.decIfLock: this instance holds the lock and this is the last visit; use dec() under the lock`);
    }
    let lockBits = LOCKED;
    while (this.#seen < 2 * STEP) {
      if (this.#seen < STEP && (this.#seen & STATE_MASK) === FREE) {
        throw new RangeError(`${KIND}.decIfLock: the count dropped to 0 under us; each visit must end once`);
      }
      if (this.#cmpxchgOrWait(lockBits)) {
        this.#held = true;
        return true;
      }
      if (this.#waited) lockBits = WAITING;
    }
    if (this.#waited) this.#wakeOne();
    return false;
  }

  /** Take the lock. Does not wait for visits to end. Throws DeadlockError if this instance holds it. */
  lock(): void {
    if (this.#held) throw new DeadlockError(`${KIND}.lock: this instance already holds the lock; unlock() first`);
    this.#beginWait();
    let step = LOCKED;
    // The target is recomputed from the fresh word on every retry.
    while (!this.#cmpxchgOrWait(this.#seen + step)) {
      if (this.#waited) step = WAITING; // others may sleep: make the unlock wake one
    }
    this.#held = true;
  }

  /** Release the lock; wakes one sleeper if the lock bits were WAITING. */
  unlock(): void {
    this.#release(0, "unlock");
  }

  /** Release the lock and start a visit, atomically (unlock + inc). */
  incAndUnlock(): void {
    this.#release(STEP, "incAndUnlock");
  }

  #release(add: number, what: string): void {
    if (!this.#held) {
      throw new NotHeldError(
        (Atomics.load(this.#view, 0) & STATE_MASK) === FREE
          ? `${KIND}.${what}: the lock is not held; call it once per lock()`
          : `${KIND}.${what}: this instance does not hold the lock; release through the instance that locked it`,
      );
    }
    const view = this.#view;
    let v = Atomics.load(view, 0);
    for (;;) {
      if ((v & STATE_MASK) === FREE) {
        this.#held = false;
        throw new NotHeldError(`${KIND}.${what}: the lock bits were already FREE (released elsewhere)`);
      }
      if (add !== 0 && v >= MAX_WORD) throw new RangeError(`${KIND}.${what}: the count is at its maximum`);
      const old = Atomics.compareExchange(view, 0, v, (v + add) & ~STATE_MASK);
      if (old === v) break;
      v = old;
    }
    this.#held = false;
    if (v & WAITING) this.#wakeOne();
  }
}
