/**
 * Mutex — the 3-state futex mutex (Drepper's "mutex2" from "Futexes Are Tricky"; Rust std's
 * library/std/src/sys/sync/mutex/futex.rs).
 *
 * States of the one word:
 *   0 UNLOCKED
 *   1 LOCKED     held, nobody sleeps: unlock makes no futex call
 *   2 CONTENDED  held, sleepers may exist: unlock wakes one
 *   anything else: not a mutex word — TypeError, the word left as it is
 *
 * lock (fast):  CAS 0→1.
 * lock (step, one loop for lock() and lockAsync()):
 *   spin while 1, backing off (blocking callers only; stops at 2: a sleeper is announced);
 *   before any sleep a 0 is taken as 1 (nobody announced);
 *   otherwise CAS the seen 0 or 1 into 2: from 0 we own it (as 2: we cannot know whether others
 *   sleep, so our unlock wakes one — a woken thread re-marks the chain); from 1 we announced, so
 *   sleep while 2. Re-read the word after every return.
 * unlock: CAS 1→0; if the word was 2, store 0 and wake one (lockers only CAS 0/1 into 2, so a
 *   held 2 stays 2). 0 means a double unlock: NotHeldError.
 * give-up (timeout, abort) after sleeping: we may have consumed the wake an unlock sent. If the
 *   word is 2, its holder's unlock wakes again: nothing to do. If it is 0 or 1 (free, or taken by
 *   a fast-path locker whose unlock will not wake), wake one so a sleeper re-marks 2.
 *
 * Who holds it is recorded per thread (core/word.ts): a blocking lock() of a word this thread
 * holds, through any instance, is DeadlockError; lockAsync() simply waits for the holding task.
 *
 * @module
 */

import { ContendedWait, runAsync, runBlocking, STEP_SLEEP, STEP_TRUE } from "./contended.ts";
import { DeadlockError, NotHeldError, OwnerDiedError } from "./errors.ts";
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
import {
  isNotRecoverable,
  ownerDied,
  robustLiveness,
  robustMarkConsistent,
  type RobustState,
  robustState,
  robustTryTakeDead,
  robustUnlock,
  ROBUST_NOT_RECOVERABLE,
  ROBUST_OWNER_DIED,
  RobustWait,
  throwNotRecoverable,
} from "./robust.ts";
import { checkOptions, checkTimeout } from "./validate.ts";
import type { Placement, WordHandle, WordRecord } from "./word.ts";

/** Unlocked. */
export const MUTEX_UNLOCKED = 0;
/** Locked, no sleepers. */
export const MUTEX_LOCKED = 1;
/** Locked, sleepers may exist. */
export const MUTEX_CONTENDED = 2;

const KIND = "Mutex";
const WHERE_LOCK = `${KIND}.lock`; // built once: a template per call costs a string on the hot path

/** Options for `new Mutex(...)`. */
export interface MutexOptions extends Placement, CommonOptions {
  /**
   * A robust mutex (native futexes, Linux): 8 bytes (word + owner pid). A holder that dies is
   * detected within one slice; the next locker gets OwnerDiedError holding the lock (see
   * {@link Mutex.markConsistent}). Refused (TypeError) with the Atomics futex.
   */
  robust?: boolean;
}

/** Options for {@link Mutex.withLock}: `recover` runs `fn(true)` after an owner died (see there). */
export interface WithLockOptions {
  /**
   * The callback repairs: after an OwnerDiedError `fn(true)` runs holding the lock, and if it
   * returns (or its promise fulfils) the mutex is marked consistent; if it throws, the unlock
   * makes the mutex unrecoverable. Without it, withLock throws OwnerDiedError without running
   * `fn`, leaving the lock held by the caller to repair, markConsistent() and unlock().
   */
  recover?: boolean;
}

function checkRecover(where: string, options: unknown): boolean {
  const v = checkOptions<WithLockOptions>(options, where).recover;
  if (v !== undefined && typeof v !== "boolean") throw new TypeError(`${where}: recover must be true or false (got ${typeof v})`);
  return v === true;
}

function checkRobust(where: string, v: unknown): boolean {
  if (v === undefined) return false;
  if (typeof v !== "boolean") throw new TypeError(`${where}: robust must be true or false (got ${typeof v})`);
  return v;
}

function corrupted(where: string, v: number): TypeError {
  return new TypeError(
    `${where}: the mutex word holds ${v}, which is no mutex state (0 unlocked, 1 locked, 2 contended); ` +
      "something else wrote to it — a word must hold one primitive at a time",
  );
}

/** The contended lock loop (lock() and lockAsync() alike). */
class MutexWait extends ContendedWait {
  readonly view: Int32Array;
  readonly futex: Futex;
  readonly where: string;
  constructor(view: Int32Array, futex: Futex, where: string) {
    super();
    this.view = view;
    this.futex = futex;
    this.where = where;
  }

  step(): number {
    const view = this.view;
    let state = Atomics.load(view, 0);
    if (state === MUTEX_LOCKED && this.spins > 0) state = spinBackoff(view, 0, MUTEX_LOCKED, this.spins); // stops on 0 or 2
    if (state === MUTEX_UNLOCKED && !this.slept) { // nobody announced us yet: take it as LOCKED
      state = Atomics.compareExchange(view, 0, MUTEX_UNLOCKED, MUTEX_LOCKED);
      if (state === MUTEX_UNLOCKED) return STEP_TRUE;
    }
    for (;;) {
      if (state === MUTEX_CONTENDED) break; // held, and its unlock will wake: sleep
      if (state !== MUTEX_UNLOCKED && state !== MUTEX_LOCKED) throw corrupted(this.where, state);
      const old = Atomics.compareExchange(view, 0, state, MUTEX_CONTENDED); // take it as 2, or announce
      if (old === state) {
        if (state === MUTEX_UNLOCKED) return STEP_TRUE;
        break;
      }
      state = old;
    }
    this.expected = MUTEX_CONTENDED;
    return STEP_SLEEP;
  }

  giveUp(): void {
    if (Atomics.load(this.view, 0) !== MUTEX_CONTENDED) this.futex.wakeOne(this.view, 0);
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") &&
    typeof (v as PromiseLike<unknown>).then === "function";
}

function timeoutError(where: string, ms: number | undefined): DOMException {
  return new DOMException(`${where}: the lock was not acquired within ${ms} ms`, "TimeoutError");
}

/**
 * Held lock returned by {@link Mutex.guard}: releases on `[Symbol.dispose]` (`using`) or `release()`.
 *
 * @example
 * ```ts
 * import { Mutex } from "@futex/sync";
 * const m = new Mutex();
 * {
 *   using _held = m.guard();
 *   // critical section
 * } // unlocked here
 * ```
 */
export class MutexGuard implements Disposable {
  #mutex: Mutex | undefined;

  /** @internal Created by {@link Mutex.guard} once the lock is held. */
  constructor(mutex: Mutex) {
    this.#mutex = mutex;
  }

  /** Unlock (once; later calls do nothing). */
  release(): void {
    const m = this.#mutex;
    this.#mutex = undefined;
    m?.unlock();
  }

  /** Same as {@link release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}

/**
 * A mutual-exclusion lock shared between workers.
 *
 * @example
 * ```ts
 * import { Mutex } from "@futex/sync";
 * const m = new Mutex();                       // post m.handle to workers; Mutex.from(handle) there
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * m.withLock(() => { counter[0]++; });         // blocking acquire
 * await m.withLockAsync(async () => { counter[0]++; });
 * if (await m.lockAsync({ timeout: 50 })) {
 *   try { counter[0]++; } finally { m.unlock(); }
 * }
 * ```
 */
export class Mutex {
  readonly #view: Int32Array;
  readonly #futex: Futex;
  readonly #spins: number;
  readonly #record: WordRecord;
  /** Reused by blocking lock(): a thread runs one blocking call at a time, so it needs no allocation. */
  #wait: MutexWait | undefined;
  /** Set for a robust mutex (core/robust.ts): its two words and this thread's identity. */
  readonly #robust: RobustState | undefined;
  #robustWait: RobustWait | undefined;
  /** Where the word lives: post it to a worker and attach with {@link Mutex.from}. */
  readonly handle: WordHandle;

  /** Create an unlocked mutex in its own 4-byte SharedArrayBuffer or at `{ buffer, byteOffset }`. */
  constructor(options?: MutexOptions) {
    const attached = takeAttached(options);
    const robust = attached !== undefined
      ? attached.handle.robust === true
      : checkRobust(`new ${KIND}`, checkOptions<MutexOptions>(options, `new ${KIND}`).robust);
    const setup = attached ?? createSetup(`new ${KIND}`, KIND, options, robust);
    if (robust) this.#robust = robustState(setup.view, robustLiveness(attached ? `${KIND}.from` : `new ${KIND}`, setup.futex));
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
      if (robust) {
        refuseLiveWord(`new ${KIND}`, KIND, setup, v !== 0 ? "a robust mutex's owner or state" : undefined);
        Atomics.store(this.#robust!.view, 1, 0);
      } else {
        refuseLiveWord(`new ${KIND}`, KIND, setup, v === MUTEX_LOCKED ? "locked" : v === MUTEX_CONTENDED ? "locked, with waiters" : undefined);
      }
      Atomics.store(this.#view, 0, MUTEX_UNLOCKED);
    }
  }

  /**
   * Attach to an existing mutex (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { Mutex } from "@futex/sync";
   * const m = new Mutex();
   * const same = Mutex.from(m.handle); // in a worker: Mutex.from(workerData.mutex)
   * same.tryLock(); // true
   * m.isLocked; // true
   * ```
   */
  static from(handle: WordHandle, options?: AttachOptions & { robust?: boolean }): Mutex {
    const asked = checkRobust(`${KIND}.from`, checkOptions<MutexOptions>(options, `${KIND}.from`).robust);
    const robust = (options?.robust === undefined ? (handle as WordHandle | undefined)?.robust : asked) === true;
    const setup = attachChecked(
      KIND,
      handle,
      options,
      robust ? () => true : (v) => v >= MUTEX_UNLOCKED && v <= MUTEX_CONTENDED,
      "mutex",
      "0 unlocked, 1 locked, 2 contended",
      robust,
    );
    if (robust && setup.handle.robust !== true) (setup as { handle: WordHandle }).handle = { ...setup.handle, robust: true };
    return new Mutex(attachedOptions(setup));
  }

  /** Whether anyone holds the lock right now (a snapshot). */
  get isLocked(): boolean {
    return Atomics.load(this.#view, 0) !== MUTEX_UNLOCKED;
  }

  /** Whether this instance holds the lock. */
  get held(): boolean {
    return this.#record.holder === this;
  }

  /** Take the lock if it is free; never waits. */
  tryLock(): boolean {
    const r = this.#robust;
    if (r !== undefined) return this.#robustTry(r, `${KIND}.tryLock`);
    if (Atomics.compareExchange(this.#view, 0, MUTEX_UNLOCKED, MUTEX_LOCKED) !== MUTEX_UNLOCKED) return false;
    this.#record.holder = this;
    return true;
  }

  /** Robust tryLock: one CAS, else take a dead owner's lock (OwnerDiedError) or give false. */
  #robustTry(r: RobustState, where: string): boolean {
    if (Atomics.compareExchange(r.view, 0, 0, r.tid) === 0) {
      r.view[1] = r.pid;
      this.#record.holder = this;
      return true;
    }
    if (this.#record.holder !== undefined) return false; // held here, through some instance: alive
    const dead = robustTryTakeDead(r);
    if (dead === undefined) return false;
    this.#record.holder = this;
    if (dead[1] >= 0) throw ownerDied(where, dead[0], dead[1]);
    return true;
  }

  /** Whether a robust mutex is held by a caller that took it from a dead owner and has not called markConsistent(). */
  get inconsistent(): boolean {
    const r = this.#robust;
    if (r === undefined) return false;
    const w = Atomics.load(r.view, 0);
    return w !== ROBUST_NOT_RECOVERABLE && (w & ROBUST_OWNER_DIED) !== 0;
  }

  /**
   * Robust mutexes: declare the data repaired after an OwnerDiedError, so the next unlock()
   * releases normally. Throws NotHeldError unless this instance holds the lock, TypeError if
   * the mutex is not robust or not inconsistent.
   */
  markConsistent(): void {
    const r = this.#robust;
    if (r === undefined) throw new TypeError(`${KIND}.markConsistent: only a robust mutex ({ robust: true }) can be inconsistent`);
    if (this.#record.holder !== this) {
      throw new NotHeldError(`${KIND}.markConsistent: this instance does not hold the lock; call it after the lock() that threw OwnerDiedError`);
    }
    if (!robustMarkConsistent(r)) {
      throw new TypeError(`${KIND}.markConsistent: the mutex is consistent (no owner died since it was last marked); nothing to mark`);
    }
  }

  /**
   * Block until the lock is taken (true) or `timeoutMs` passes (false). Spins briefly first.
   * Throws DeadlockError if this thread already holds the lock (through any instance), or has
   * a pending {@link lockAsync} on it.
   */
  lock(timeoutMs?: number): boolean {
    const timeout = checkTimeout(timeoutMs, WHERE_LOCK);
    const r = this.#robust;
    if (r !== undefined) return this.#robustLock(r, timeout);
    if (Atomics.compareExchange(this.#view, 0, MUTEX_UNLOCKED, MUTEX_LOCKED) === MUTEX_UNLOCKED) {
      this.#record.holder = this;
      return true;
    }
    if (timeout === 0) return false; // a poll: never announce
    if (this.#record.holder !== undefined) {
      throw new DeadlockError(
        `${KIND}.lock: ${this.#record.holder === this ? "this instance" : "this thread, through another instance,"} ` +
          "already holds the lock, so waiting for it would never end; unlock() first",
      );
    }
    const w = this.#wait ??= new MutexWait(this.#view, this.#futex, WHERE_LOCK);
    w.slept = false;
    w.spins = this.#spins;
    const ok = runBlocking(w, this.#view, this.#futex, timeout, this.#record, true, WHERE_LOCK);
    if (ok) this.#record.holder = this;
    return ok;
  }

  #robustLock(r: RobustState, timeout: number | undefined): boolean {
    const where = WHERE_LOCK;
    if (Atomics.compareExchange(r.view, 0, 0, r.tid) === 0) {
      r.view[1] = r.pid;
      this.#record.holder = this;
      return true;
    }
    if (isNotRecoverable(r)) throwNotRecoverable(where);
    if (timeout === 0) return this.#robustTry(r, where);
    if (this.#record.holder !== undefined) {
      throw new DeadlockError(
        `${where}: ${this.#record.holder === this ? "this instance" : "this thread, through another instance,"} ` +
          "already holds the lock, so waiting for it would never end; unlock() first",
      );
    }
    const w = this.#robustWait ??= new RobustWait(r, this.#futex, where);
    w.reset(this.#spins);
    const ok = runBlocking(w, r.view, this.#futex, timeout, this.#record, true, where);
    if (ok) {
      this.#record.holder = this;
      if (w.diedTid >= 0) throw ownerDied(where, w.diedPid, w.diedTid);
    }
    return ok;
  }

  /**
   * Take the lock without blocking the thread: resolves true when held, false after `timeout` ms;
   * rejects with `signal.reason` on abort, holding nothing. Never spins. While another task of
   * this thread holds the lock it waits for that task's unlock (so a task that awaits the lock
   * it holds itself waits for ever).
   */
  async lockAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const { timeout, signal } = asyncOptions(`${KIND}.lockAsync`, options);
    const r = this.#robust;
    if (r !== undefined) return this.#robustLockAsync(r, timeout, signal);
    if (Atomics.compareExchange(this.#view, 0, MUTEX_UNLOCKED, MUTEX_LOCKED) === MUTEX_UNLOCKED) {
      this.#record.holder = this;
      return true;
    }
    const w = new MutexWait(this.#view, this.#futex, `${KIND}.lockAsync`);
    const ok = await runAsync(w, this.#view, this.#futex, timeout, signal, this.#record, `${KIND}.lockAsync`);
    if (ok) this.#record.holder = this;
    return ok;
  }

  async #robustLockAsync(r: RobustState, timeout: number | undefined, signal: AbortSignal | undefined): Promise<boolean> {
    const where = `${KIND}.lockAsync`;
    if (Atomics.compareExchange(r.view, 0, 0, r.tid) === 0) {
      r.view[1] = r.pid;
      this.#record.holder = this;
      return true;
    }
    if (isNotRecoverable(r)) throwNotRecoverable(where);
    const w = new RobustWait(r, this.#futex, where);
    const ok = await runAsync(w, r.view, this.#futex, timeout, signal, this.#record, where);
    if (ok) {
      this.#record.holder = this;
      if (w.diedTid >= 0) throw ownerDied(where, w.diedPid, w.diedTid);
    }
    return ok;
  }

  /**
   * Release the lock; wakes one sleeper only if the word says someone may sleep. Throws
   * NotHeldError if this instance does not hold it (including a double unlock).
   */
  unlock(): void {
    const record = this.#record;
    if (record.holder !== this) {
      throw new NotHeldError(
        Atomics.load(this.#view, 0) === MUTEX_UNLOCKED
          ? `${KIND}.unlock: the mutex is not locked; call unlock() once per successful lock()`
          : `${KIND}.unlock: this instance does not hold the lock; unlock through the instance that locked it`,
      );
    }
    const r = this.#robust;
    if (r !== undefined) {
      record.holder = undefined;
      robustUnlock(r, this.#futex, `${KIND}.unlock`);
      return;
    }
    const view = this.#view;
    const old = Atomics.compareExchange(view, 0, MUTEX_LOCKED, MUTEX_UNLOCKED);
    if (old === MUTEX_LOCKED) {
      record.holder = undefined;
      return; // nobody sleeps: no futex call
    }
    if (old === MUTEX_CONTENDED) {
      record.holder = undefined;
      Atomics.store(view, 0, MUTEX_UNLOCKED);
      this.#futex.wakeOne(view, 0);
      return;
    }
    record.holder = undefined;
    if (old === MUTEX_UNLOCKED) {
      throw new NotHeldError(`${KIND}.unlock: the word was already 0 (unlocked elsewhere while this instance held it)`);
    }
    throw corrupted(`${KIND}.unlock`, old);
  }

  /**
   * Run `fn` holding the lock (blocking acquire) and release it after — after the returned
   * promise settles if `fn` returns one. Robust mutexes: if the previous owner died, throws
   * OwnerDiedError without running `fn` (the caller holds the lock), unless `{ recover: true }`:
   * then `fn(true)` repairs, and the mutex is marked consistent when it returns.
   */
  withLock<T>(fn: (ownerDied: boolean) => T, options?: WithLockOptions): T {
    if (typeof fn !== "function") throw new TypeError(`${KIND}.withLock: pass a function to run under the lock`);
    const recover = checkRecover(`${KIND}.withLock`, options);
    let died = false;
    try {
      this.lock();
    } catch (e) {
      if (!(e instanceof OwnerDiedError && recover)) throw e;
      died = true;
    }
    let result: T;
    try {
      result = fn(died);
    } catch (e) {
      this.unlock();
      throw e;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (v) => {
          this.#repaired(died);
          return v;
        },
        (e) => {
          this.unlock();
          throw e;
        },
      ) as T;
    }
    this.#repaired(died);
    return result;
  }

  /** Unlock after a successful callback, marking the mutex consistent first if `fn` repaired it. */
  #repaired(died: boolean): void {
    if (died) this.markConsistent();
    this.unlock();
  }

  /**
   * Run `fn` holding the lock, acquired without blocking the thread. Rejects with a
   * "TimeoutError" DOMException if `timeout` passes first, or with `signal.reason` on abort.
   */
  async withLockAsync<T>(fn: (ownerDied: boolean) => T | PromiseLike<T>, options?: AsyncWaitOptions & WithLockOptions): Promise<T> {
    if (typeof fn !== "function") throw new TypeError(`${KIND}.withLockAsync: pass a function to run under the lock`);
    const recover = checkRecover(`${KIND}.withLockAsync`, options);
    let died = false;
    try {
      if (!(await this.lockAsync(options))) throw timeoutError(`${KIND}.withLockAsync`, options?.timeout);
    } catch (e) {
      if (!(e instanceof OwnerDiedError && recover)) throw e;
      died = true;
    }
    let result: T;
    try {
      result = await fn(died);
    } catch (e) {
      this.unlock();
      throw e;
    }
    this.#repaired(died);
    return result;
  }

  /**
   * Block until the lock is held and return a guard that unlocks when disposed (`using`).
   * Throws a "TimeoutError" DOMException if `timeoutMs` passes first.
   */
  guard(timeoutMs?: number): MutexGuard {
    if (!this.lock(timeoutMs)) throw timeoutError(`${KIND}.guard`, timeoutMs);
    return new MutexGuard(this);
  }

  /**
   * Take the lock without blocking the thread and resolve a guard that unlocks when disposed
   * (`await using` or `using`). Rejects with a "TimeoutError" DOMException if `timeout` passes
   * first, or with `signal.reason` on abort, holding nothing.
   *
   * @example
   * ```ts
   * import { Mutex } from "@futex/sync";
   * const m = new Mutex();
   * {
   *   await using _held = await m.guardAsync({ timeout: 1000 });
   *   // critical section
   * } // unlocked here
   * ```
   */
  async guardAsync(options?: AsyncWaitOptions): Promise<MutexGuard> {
    if (!(await this.lockAsync(options))) throw timeoutError(`${KIND}.guardAsync`, options?.timeout);
    return new MutexGuard(this);
  }
}
