/**
 * Mutex — the 3-state futex mutex (Drepper's "mutex2", Rust std's sys/sync/mutex/futex.rs).
 *
 * States of the one word:
 *   0 UNLOCKED
 *   1 LOCKED     held, nobody sleeps: unlock makes no futex call
 *   2 CONTENDED  held, sleepers may exist: unlock wakes one
 *
 * lock:   CAS 0→1 (fast path). Otherwise spin while 1, then swap in 2: if the swap returned 0 we
 *         own it (as 2: we cannot know whether others sleep, so the next unlock wakes one);
 *         else sleep while 2, and loop. A woken thread re-marks 2, so a chain of sleepers is
 *         woken one unlock at a time.
 * unlock: CAS 1→0; if the word was 2, store 0 and wake one (only lockers touch a held word, and
 *         they only swap 2 into 2). A word already 0 means a double unlock: NotHeldError.
 * give-up: an aborted lockAsync leaves without re-reading the word, so it may take with it a
 *         wake meant to pass the lock on: it wakes one before leaving. A timed-out lock gives
 *         up only while the word says held-and-CONTENDED, whose unlock wakes again
 *         (tests/models/mutex.pml proves that); it still wakes one, a spurious wake at worst.
 *
 * Each instance remembers whether it holds the lock. An instance lives on one thread, so a
 * blocking lock() on an instance that already holds it can never return: DeadlockError.
 *
 * @module
 */

import { DeadlockError, NotHeldError } from "./errors.ts";
import { deadlineAfter, type Futex, futexTimeout, remainingMs, spinWhileEqual } from "./futex.ts";
import {
  asyncOptions,
  type AsyncWaitOptions,
  attachedOptions,
  attachChecked,
  type CommonOptions,
  createSetup,
  takeAttached,
} from "./primitive.ts";
import { checkTimeout } from "./validate.ts";
import type { Placement, WordHandle } from "./word.ts";

/** Unlocked. */
export const MUTEX_UNLOCKED = 0;
/** Locked, no sleepers. */
export const MUTEX_LOCKED = 1;
/** Locked, sleepers may exist. */
export const MUTEX_CONTENDED = 2;

const KIND = "Mutex";

/** Options for `new Mutex(...)`. */
export interface MutexOptions extends Placement, CommonOptions {}

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
 * m.withLock(() => { counter[0]++; });         // sync
 * await m.withLockAsync(async () => { await save(); });
 * if (await m.lockAsync({ timeout: 50 })) { try { work(); } finally { m.unlock(); } }
 * ```
 */
export class Mutex {
  readonly #view: Int32Array;
  readonly #futex: Futex;
  readonly #spins: number;
  #held = false;
  /** Where the word lives: post it to a worker and attach with {@link Mutex.from}. */
  readonly handle: WordHandle;

  /** Create an unlocked mutex in its own 4-byte SharedArrayBuffer or at `{ buffer, byteOffset }`. */
  constructor(options?: MutexOptions) {
    const attached = takeAttached(options);
    const setup = attached ?? createSetup(`new ${KIND}`, KIND, options);
    this.#view = setup.view;
    this.#futex = setup.futex;
    this.#spins = setup.spins;
    this.handle = Object.freeze(setup.handle);
    if (attached === undefined) Atomics.store(this.#view, 0, MUTEX_UNLOCKED);
  }

  /**
   * Attach to an existing mutex (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { Mutex } from "@futex/sync";
   * import { workerData } from "node:worker_threads";
   * const m = Mutex.from(workerData.mutex);
   * ```
   */
  static from(handle: WordHandle, options?: CommonOptions): Mutex {
    const setup = attachChecked(
      KIND,
      handle,
      options,
      (v) => v >= MUTEX_UNLOCKED && v <= MUTEX_CONTENDED,
      "mutex",
      "0 unlocked, 1 locked, 2 contended",
    );
    return new Mutex(attachedOptions(setup));
  }

  /** Whether anyone holds the lock right now (a snapshot). */
  get isLocked(): boolean {
    return Atomics.load(this.#view, 0) !== MUTEX_UNLOCKED;
  }

  /** Whether this instance holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /** Take the lock if it is free; never waits. */
  tryLock(): boolean {
    if (Atomics.compareExchange(this.#view, 0, MUTEX_UNLOCKED, MUTEX_LOCKED) !== MUTEX_UNLOCKED) return false;
    this.#held = true;
    return true;
  }

  /**
   * Block until the lock is taken (true) or `timeoutMs` passes (false). Spins briefly first.
   * Throws DeadlockError if this instance already holds the lock.
   */
  lock(timeoutMs?: number): boolean {
    const timeout = checkTimeout(timeoutMs, `${KIND}.lock`);
    if (this.#held) {
      throw new DeadlockError(`${KIND}.lock: this instance already holds the lock, so waiting for it would never end; unlock() first`);
    }
    const view = this.#view;
    if (Atomics.compareExchange(view, 0, MUTEX_UNLOCKED, MUTEX_LOCKED) === MUTEX_UNLOCKED) {
      this.#held = true;
      return true;
    }
    if (timeout === 0) return false;
    let state = spinWhileEqual(view, 0, MUTEX_LOCKED, this.#spins); // stops early on 0 or 2
    if (state === MUTEX_UNLOCKED) {
      state = Atomics.compareExchange(view, 0, MUTEX_UNLOCKED, MUTEX_LOCKED);
      if (state === MUTEX_UNLOCKED) {
        this.#held = true;
        return true;
      }
    }
    const deadline = deadlineAfter(timeout);
    let slept = false;
    for (;;) {
      // Acquire as CONTENDED: after contention we cannot know whether others sleep.
      if (state !== MUTEX_CONTENDED && Atomics.exchange(view, 0, MUTEX_CONTENDED) === MUTEX_UNLOCKED) {
        this.#held = true;
        return true;
      }
      const left = remainingMs(deadline);
      if (left <= 0) {
        if (slept) this.#futex.wakeOne(view, 0); // pass on a wake we may have consumed
        return false;
      }
      this.#futex.wait(view, 0, MUTEX_CONTENDED, futexTimeout(left));
      slept = true;
      state = spinWhileEqual(view, 0, MUTEX_LOCKED, this.#spins);
    }
  }

  /**
   * Take the lock without blocking the thread: resolves true when held, false after `timeout` ms;
   * rejects with `signal.reason` on abort, holding nothing. Never spins.
   */
  async lockAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const { timeout, signal } = asyncOptions(`${KIND}.lockAsync`, options);
    const view = this.#view;
    let state = Atomics.compareExchange(view, 0, MUTEX_UNLOCKED, MUTEX_LOCKED);
    if (state === MUTEX_UNLOCKED) {
      this.#held = true;
      return true;
    }
    if (timeout === 0) return false;
    const deadline = deadlineAfter(timeout);
    let slept = false;
    for (;;) {
      if (state !== MUTEX_CONTENDED && Atomics.exchange(view, 0, MUTEX_CONTENDED) === MUTEX_UNLOCKED) {
        this.#held = true;
        return true;
      }
      const left = remainingMs(deadline);
      if (left <= 0) {
        if (slept) this.#futex.wakeOne(view, 0);
        return false;
      }
      await this.#futex.waitAsync(view, 0, MUTEX_CONTENDED, futexTimeout(left), signal);
      slept = true;
      if (signal?.aborted) {
        this.#futex.wakeOne(view, 0);
        throw signal.reason;
      }
      state = Atomics.load(view, 0);
    }
  }

  /**
   * Release the lock; wakes one sleeper only if the word says someone may sleep. Throws
   * NotHeldError if this instance does not hold it (including a double unlock).
   */
  unlock(): void {
    if (!this.#held) {
      throw new NotHeldError(
        Atomics.load(this.#view, 0) === MUTEX_UNLOCKED
          ? `${KIND}.unlock: the mutex is not locked; call unlock() once per successful lock()`
          : `${KIND}.unlock: this instance does not hold the lock; unlock through the instance that locked it`,
      );
    }
    this.#held = false;
    const view = this.#view;
    const old = Atomics.compareExchange(view, 0, MUTEX_LOCKED, MUTEX_UNLOCKED);
    if (old === MUTEX_LOCKED) return; // nobody sleeps: no futex call
    if (old === MUTEX_CONTENDED) {
      Atomics.store(view, 0, MUTEX_UNLOCKED);
      this.#futex.wakeOne(view, 0);
      return;
    }
    throw new NotHeldError(`${KIND}.unlock: the word was already ${old} (unlocked elsewhere while this instance held it)`);
  }

  /**
   * Run `fn` holding the lock (blocking acquire) and release it after — after the returned
   * promise settles if `fn` returns one.
   */
  withLock<T>(fn: () => T): T {
    if (typeof fn !== "function") throw new TypeError(`${KIND}.withLock: pass a function to run under the lock`);
    this.lock();
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.unlock();
      throw e;
    }
    if (isThenable(result)) {
      return Promise.resolve(result).finally(() => this.unlock()) as T;
    }
    this.unlock();
    return result;
  }

  /**
   * Run `fn` holding the lock, acquired without blocking the thread. Rejects with a
   * "TimeoutError" DOMException if `timeout` passes first, or with `signal.reason` on abort.
   */
  async withLockAsync<T>(fn: () => T | PromiseLike<T>, options?: AsyncWaitOptions): Promise<T> {
    if (typeof fn !== "function") throw new TypeError(`${KIND}.withLockAsync: pass a function to run under the lock`);
    if (!(await this.lockAsync(options))) throw timeoutError(`${KIND}.withLockAsync`, options?.timeout);
    try {
      return await fn();
    } finally {
      this.unlock();
    }
  }

  /**
   * Block until the lock is held and return a guard that unlocks when disposed (`using`).
   * Throws a "TimeoutError" DOMException if `timeoutMs` passes first.
   */
  guard(timeoutMs?: number): MutexGuard {
    if (!this.lock(timeoutMs)) throw timeoutError(`${KIND}.guard`, timeoutMs);
    return new MutexGuard(this);
  }
}
