/**
 * LockCnt — QEMU's QemuLockCnt (util/lockcnt.c, futex variant): a visit counter and a lock in
 * one 32-bit word, for data that may be freed only when nobody visits.
 *
 * The word (bit-compatible with QEMU):
 *   bits 0–1  lock state: FREE 0 (unlocked) / LOCKED 1 (held, nobody sleeps) /
 *             WAITING 2 (held, sleepers may exist); 3 is invalid
 *   bits 2–31 visit count, in steps of 4; the word stays a non-negative int32
 *   a negative word or lock bits 3: no LockCnt state — TypeError, the word left as it is
 *
 * The lock is Drepper's mutex2 in the low bits. Every blocking operation (inc, decAndLock,
 * decIfLock, lock — sync, timed and async alike) is one step (`LockCntWait.step`), QEMU's
 * `qemu_lockcnt_cmpxchg_or_wait` plus the operation's own target: with the lock bits FREE, CAS
 * the seen word to the target; otherwise spin once, backing off (blocking callers), mark LOCKED→WAITING and
 * sleep while the whole word is unchanged (any count change also ends the sleep), then recompute
 * the target from the fresh word.
 *
 * Baton passing: a thread that slept may have consumed the wake meant to hand the lock on, so
 *   - when it later takes the lock it marks it WAITING, not LOCKED (others may sleep), and
 *   - when it finishes without the lock (inc, a failed decAndLock/decIfLock) it wakes one;
 *   - when it gives up (timeout, abort) it wakes one unless the lock bits say WAITING (whose
 *     holder's unlock wakes anyway).
 * lock() and unlock() CAS a guessed word first (FREE→LOCKED, LOCKED→FREE), then loop on the
 * word the CAS returned: one RMW on the usual path, not a load and a CAS.
 * All wakes are single. `inc` passes a held lock when the count is already non-zero; `lock`
 * does not wait for visits to end (check `count === 0` under the lock before freeing).
 *
 * @module
 */

import { ContendedWait, runAsync, runBlocking, STEP_FALSE, STEP_SLEEP, STEP_TRUE } from "./contended.ts";
import { DeadlockError, NotHeldError } from "./errors.ts";
import type { Futex } from "./futex.ts";
import { spinBackoff } from "./spin.ts";
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
import { checkTimeout } from "./validate.ts";
import type { Placement, WordHandle, WordRecord } from "./word.ts";

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
const WHERE_INC = `${KIND}.inc`; // built once: a template per call costs a string on the hot path
const WHERE_LOCK = `${KIND}.lock`;

/** Operations that may wait (the step's target rule). */
const INC = 0, DEC_AND_LOCK = 1, DEC_IF_LOCK = 2, LOCK = 3;
const OP_NAMES = ["inc", "decAndLock", "decIfLock", "lock"];
const OP_WHERE = OP_NAMES.map((op) => `${KIND}.${op}`);

function corrupted(where: string, v: number): TypeError {
  return new TypeError(
    `${where}: the word holds ${v}, which is no LockCnt state (a non-negative word whose lock bits are 0, 1 or 2); ` +
      "something else wrote to it — a word must hold one primitive at a time",
  );
}

/** Whether `v` is a LockCnt word. */
const isState = (v: number): boolean => v >= 0 && (v & STATE_MASK) !== 3;

/** One blocking LockCnt operation in progress (every form of inc, decAndLock, decIfLock, lock). */
class LockCntWait extends ContendedWait {
  /** Lock bits to take the lock with: WAITING once this call has slept (baton rule). */
  lockBits = LOCKED;
  /** One spin per operation: after a spin that ended in a lost CAS, announce and sleep. */
  spun = false;
  /** Whether step() finished the operation (a false from the driver is then no timeout). */
  finished = false;
  /** A poll (timeout 0): finish false where the operation would announce itself and sleep. */
  poll = false;

  readonly view: Int32Array;
  readonly futex: Futex;
  readonly op: number;
  readonly where: string;
  constructor(view: Int32Array, futex: Futex, op: number, where: string) {
    super();
    this.view = view;
    this.futex = futex;
    this.op = op;
    this.where = where;
  }

  /** Reset for another call (the blocking forms reuse one object per operation). */
  begin(spins: number, poll = false): this {
    this.poll = poll;
    this.slept = false;
    this.spun = false;
    this.finished = false;
    this.lockBits = LOCKED;
    this.spins = spins;
    return this;
  }

  /** Finished without taking the lock: pass on a wake this call may have consumed. */
  #leave(result: number): number {
    if (this.slept) this.futex.wakeOne(this.view, 0);
    return result;
  }

  step(): number {
    const r = this.#step();
    if (r !== STEP_SLEEP) this.finished = true;
    return r;
  }

  #step(): number {
    const view = this.view;
    const op = this.op;
    if (this.slept) this.lockBits = WAITING; // others may sleep: make our unlock wake one
    let seen = Atomics.load(view, 0);
    for (;;) {
      if (!isState(seen)) throw corrupted(this.where, seen);
      // The operation's own rule: finish without the lock, or choose the target for FREE lock bits.
      let target: number;
      if (op === INC) {
        if (seen >= STEP) { // a visit is in progress: join it even while the lock is held
          if (seen >= MAX_WORD) throw new RangeError(`${this.where}: the count is at its maximum ${LOCKCNT_MAX_COUNT}`);
          const old = Atomics.compareExchange(view, 0, seen, seen + STEP);
          if (old === seen) return this.#leave(STEP_TRUE);
          seen = old;
          continue;
        }
        target = STEP; // (0, free) → (1, free)
      } else if (op === LOCK) {
        target = seen + this.lockBits;
      } else {
        if (seen >= 2 * STEP) { // not the last visit
          if (op === DEC_IF_LOCK) return this.#leave(STEP_FALSE);
          const old = Atomics.compareExchange(view, 0, seen, seen - STEP);
          if (old === seen) return this.#leave(STEP_FALSE);
          seen = old;
          continue;
        }
        if (seen < STEP) throw new RangeError(`${this.where}: the count dropped to 0 under us; each visit must end once`);
        target = this.lockBits; // (1, free) → (0, locked or waiting)
      }
      // QEMU's qemu_lockcnt_cmpxchg_or_wait.
      const state = seen & STATE_MASK;
      if (state === FREE) {
        const old = Atomics.compareExchange(view, 0, seen, target);
        if (old === seen) return op === INC ? this.#leave(STEP_TRUE) : STEP_TRUE;
        seen = old;
      } else if (this.poll) {
        return STEP_FALSE; // held: a poll neither announces nor sleeps
      } else if (state === LOCKED) {
        if (!this.spun && this.spins > 0) { // spin once per operation before announcing contention
          this.spun = true;
          seen = spinBackoff(view, 0, seen, this.spins); // backing off: the holder keeps the cache line
          continue;
        }
        const want = seen - LOCKED + WAITING; // LOCKED→WAITING, count kept: the unlocker must wake
        const old = Atomics.compareExchange(view, 0, seen, want);
        seen = old === seen ? want : old;
      } else { // WAITING
        this.expected = seen; // sleep while the whole word is unchanged
        return STEP_SLEEP;
      }
    }
  }

  giveUp(): void {
    if ((Atomics.load(this.view, 0) & STATE_MASK) !== WAITING) this.futex.wakeOne(this.view, 0);
  }
}

function timeoutError(where: string, ms: number | undefined): DOMException {
  return new DOMException(`${where}: not done within ${ms} ms; the visit is still in progress`, "TimeoutError");
}

/** Options for `new LockCnt(...)`. */
export interface LockCntOptions extends Placement, CommonOptions {}

/**
 * A lock plus a visit counter, shared between workers.
 *
 * @example
 * ```ts
 * import { LockCnt } from "@futex/sync";
 * const lc = new LockCnt();                 // post lc.handle; LockCnt.from(handle) in workers
 * const shared = { items: [1, 2, 3] as number[] | null };
 * // visit without locking:
 * lc.inc();
 * try { shared.items?.length; } finally { lc.dec(); }
 * // free when idle:
 * lc.lock();
 * try { if (lc.count === 0) shared.items = null; } finally { lc.unlock(); }
 * // free right after the last visit, without blocking the thread:
 * if (await lc.incAsync({ timeout: 1000 })) {
 *   if (await lc.decAndLockAsync()) { shared.items = null; lc.unlock(); }
 * }
 * ```
 */
export class LockCnt {
  readonly #view: Int32Array;
  readonly #futex: Futex;
  readonly #spins: number;
  readonly #record: WordRecord;
  /** Reused by the blocking forms, one per operation: a thread runs one blocking call at a time. */
  readonly #waits: (LockCntWait | undefined)[] = [undefined, undefined, undefined, undefined];
  /** Where the word lives: post it to a worker and attach with {@link LockCnt.from}. */
  readonly handle: WordHandle;

  /** Create an idle LockCnt (word 0) in its own 4-byte SharedArrayBuffer or at `{ buffer, byteOffset }`. */
  constructor(options?: LockCntOptions) {
    const attached = takeAttached(options);
    const setup = attached ?? createSetup(`new ${KIND}`, KIND, options);
    this.#view = setup.view;
    this.#futex = setup.futex;
    this.#spins = setup.spins;
    this.#record = setup.record;
    this.handle = Object.freeze(setup.handle);
    if (attached === undefined) {
      if (this.#record.holder !== undefined) {
        throw new DeadlockError(`new ${KIND}: this thread holds a lock on that word; re-initialising it would free it under the holder`);
      }
      const v = Atomics.load(this.#view, 0);
      refuseLiveWord(
        `new ${KIND}`,
        KIND,
        setup,
        v !== 0 && isState(v) ? `${v >> 2} visits counted, lock bits ${v & STATE_MASK}` : undefined,
      );
      Atomics.store(this.#view, 0, 0);
    }
  }

  /**
   * Attach to an existing LockCnt (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { LockCnt } from "@futex/sync";
   * const lc = new LockCnt();
   * const same = LockCnt.from(lc.handle); // in a worker: LockCnt.from(workerData.lockcnt)
   * same.inc();
   * lc.count; // 1
   * ```
   */
  static from(handle: WordHandle, options?: AttachOptions): LockCnt {
    const setup = attachChecked(KIND, handle, options, isState, "LockCnt", "lock bits 0–2, count ≥ 0");
    return new LockCnt(attachedOptions(setup));
  }

  #load(where: string): number {
    const v = Atomics.load(this.#view, 0);
    if (!isState(v)) throw corrupted(where, v);
    return v;
  }

  /** Visits in progress (a snapshot; meaningful under the lock when checking for 0). */
  get count(): number {
    return this.#load(`${KIND}.count`) >>> 2;
  }

  /** Whether the lock bits say someone holds the lock (a snapshot). */
  get isLocked(): boolean {
    return (this.#load(`${KIND}.isLocked`) & STATE_MASK) !== FREE;
  }

  /** Whether this instance holds the lock. */
  get held(): boolean {
    return this.#record.holder === this;
  }

  /** Run operation `op` blocking, at most `timeout` ms. */
  #blocking(op: number, timeout: number | undefined): boolean {
    const where = OP_WHERE[op];
    const w = (this.#waits[op] ??= new LockCntWait(this.#view, this.#futex, op, where)).begin(this.#spins, timeout === 0);
    return runBlocking(w, this.#view, this.#futex, timeout, this.#record, true, where);
  }

  /** Run operation `op` without blocking the thread. */
  #async(op: number, name: string, options: unknown): Promise<boolean> {
    const where = `${KIND}.${name}`;
    const { timeout, signal } = asyncOptions(where, options);
    const w = new LockCntWait(this.#view, this.#futex, op, where).begin(0);
    return runAsync(w, this.#view, this.#futex, timeout, signal, this.#record, where);
  }

  /** Refuse a blocking call that could only end by this thread's own unlock. */
  #selfWait(where: string, why: string): void {
    if (this.#record.holder !== undefined) {
      throw new DeadlockError(
        `${where}: ${this.#record.holder === this ? "this instance" : "this thread, through another instance,"} holds the lock ` +
          `and ${why}; ${where.endsWith(".inc") ? "use incAndUnlock() or unlock() first" : "use dec() under the lock"}`,
      );
    }
  }

  /**
   * Start a visit. If the count is 0, waits for a lock holder to unlock first (at most
   * `timeoutMs`: false if the visit could not start); a non-zero count is incremented even
   * while the lock is held. Throws DeadlockError if this thread holds the lock and the count is
   * 0 (the wait could never end).
   */
  inc(timeoutMs?: number): boolean {
    const timeout = checkTimeout(timeoutMs, WHERE_INC);
    const view = this.#view;
    const v = Atomics.load(view, 0);
    if (v >= STEP && v < MAX_WORD && (v & STATE_MASK) !== 3) { // fast: join the visits in progress
      if (Atomics.compareExchange(view, 0, v, v + STEP) === v) return true;
    } else if (v === 0) { // fast: (0, free) → (1, free)
      if (Atomics.compareExchange(view, 0, 0, STEP) === 0) return true;
    } else if (v < STEP && v >= 0 && timeout !== 0) {
      this.#selfWait(WHERE_INC, "the count is 0, so the wait could never end");
    }
    return this.#blocking(INC, timeout);
  }

  /**
   * {@link inc} without blocking the thread: resolves true once the visit started, false after
   * `timeout` ms; rejects with `signal.reason` on abort, having changed nothing. While another
   * task of this thread holds the lock it waits for that task's unlock.
   */
  incAsync(options?: AsyncWaitOptions): Promise<boolean> {
    try {
      return this.#async(INC, "incAsync", options);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** End a visit. Throws RangeError, changing nothing, if the count is already 0. */
  dec(): void {
    const view = this.#view;
    let v = Atomics.load(view, 0);
    for (;;) {
      if (!isState(v)) throw corrupted(`${KIND}.dec`, v);
      if (v < STEP) throw new RangeError(`${KIND}.dec: the count is 0; call dec() once per inc()`);
      const old = Atomics.compareExchange(view, 0, v, v - STEP);
      if (old === v) return;
      v = old;
    }
  }

  #checkLastVisit(where: string): void {
    const v = this.#load(where);
    if (v < STEP) throw new RangeError(`${where}: the count is 0; call it once per inc(), during a visit`);
    if (v < 2 * STEP) this.#selfWait(where, "this is the last visit");
  }

  /**
   * End a visit; if it was the last one, return true holding the lock (the count cannot become
   * non-zero again until unlock). Otherwise return false.
   */
  decAndLock(): boolean {
    return this.#decLock(DEC_AND_LOCK);
  }

  /**
   * {@link decAndLock} without blocking the thread. Rejects with `signal.reason` on abort, or a
   * "TimeoutError" DOMException after `timeout` ms, with the visit still in progress.
   */
  async decAndLockAsync(options?: AsyncWaitOptions): Promise<boolean> {
    return await this.#decLockAsync(DEC_AND_LOCK, "decAndLockAsync", options);
  }

  /**
   * If this is the only visit (count 1), end it and return true holding the lock. Otherwise
   * change nothing and return false.
   */
  decIfLock(): boolean {
    return this.#decLock(DEC_IF_LOCK);
  }

  /** decAndLock / decIfLock, blocking: refuse the last visit's wait for this thread's own lock. */
  #decLock(op: number): boolean {
    this.#checkLastVisit(OP_WHERE[op]);
    const ok = this.#blocking(op, undefined);
    if (ok) this.#record.holder = this;
    return ok;
  }

  /**
   * {@link decIfLock} without blocking the thread. Rejects with `signal.reason` on abort, or a
   * "TimeoutError" DOMException after `timeout` ms, with the visit still in progress.
   */
  async decIfLockAsync(options?: AsyncWaitOptions): Promise<boolean> {
    return await this.#decLockAsync(DEC_IF_LOCK, "decIfLockAsync", options);
  }

  async #decLockAsync(op: number, name: string, options: AsyncWaitOptions | undefined): Promise<boolean> {
    const v = this.#load(`${KIND}.${name}`);
    if (v < STEP) throw new RangeError(`${KIND}.${name}: the count is 0; call it once per inc(), during a visit`);
    const { timeout, signal } = asyncOptions(`${KIND}.${name}`, options);
    const w = new LockCntWait(this.#view, this.#futex, op, `${KIND}.${name}`).begin(0);
    // A timeout cannot mean "false" here (false says the visit ended): the step leaves the count
    // untouched until it finishes, so a timed-out call rejects with the visit still in progress.
    const ok = await runAsync(w, this.#view, this.#futex, timeout, signal, this.#record, `${KIND}.${name}`);
    if (!w.finished) throw timeoutError(`${KIND}.${name}`, timeout);
    if (ok) this.#record.holder = this;
    return ok;
  }

  /**
   * Take the lock (true), or give up after `timeoutMs` (false). Does not wait for visits to end.
   * Throws DeadlockError if this thread holds it (through any instance).
   */
  lock(timeoutMs?: number): boolean {
    const timeout = checkTimeout(timeoutMs, WHERE_LOCK);
    const view = this.#view;
    // Guess "no visits, free" and CAS at once: a load first would fetch the cache line shared
    // and the CAS fetch it again exclusive (two transfers under contention instead of one).
    const v = Atomics.compareExchange(view, 0, FREE, LOCKED);
    if (v === FREE || ((v & STATE_MASK) === FREE && v >= 0 && Atomics.compareExchange(view, 0, v, v + LOCKED) === v)) {
      this.#record.holder = this;
      return true;
    }
    if (timeout !== 0 && this.#record.holder !== undefined) {
      throw new DeadlockError(
        `${KIND}.lock: ${this.#record.holder === this ? "this instance" : "this thread, through another instance,"} ` +
          "already holds the lock; unlock() first",
      );
    }
    const ok = this.#blocking(LOCK, timeout);
    if (ok) this.#record.holder = this;
    return ok;
  }

  /**
   * Take the lock without blocking the thread: resolves true when held, false after `timeout`
   * ms; rejects with `signal.reason` on abort, holding nothing. While another task of this
   * thread holds it, waits for that task's unlock.
   */
  async lockAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const ok = await this.#async(LOCK, "lockAsync", options);
    if (ok) this.#record.holder = this;
    return ok;
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
    const record = this.#record;
    if (record.holder !== this) {
      throw new NotHeldError(
        (Atomics.load(this.#view, 0) & STATE_MASK) === FREE
          ? `${KIND}.${what}: the lock is not held; call it once per lock()`
          : `${KIND}.${what}: this instance does not hold the lock; release through the instance that locked it`,
      );
    }
    const view = this.#view;
    let v = LOCKED; // the usual word under the lock: the CAS checks the guess (one RMW, no load first)
    for (;;) {
      if (!isState(v)) throw corrupted(`${KIND}.${what}`, v);
      if ((v & STATE_MASK) === FREE) {
        record.holder = undefined;
        throw new NotHeldError(`${KIND}.${what}: the lock bits were already FREE (released elsewhere)`);
      }
      if (add !== 0 && v >= MAX_WORD) throw new RangeError(`${KIND}.${what}: the count is at its maximum`);
      const old = Atomics.compareExchange(view, 0, v, (v + add) & ~STATE_MASK);
      if (old === v) break;
      v = old;
    }
    record.holder = undefined;
    if (v & WAITING) this.#futex.wakeOne(view, 0);
  }
}
