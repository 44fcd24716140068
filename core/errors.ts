/**
 * Named errors for misuse the library can detect. Bad arguments are TypeError / RangeError
 * (core/validate.ts); these are for calls that are well-formed but wrong in the current state.
 *
 * @module
 */

/**
 * A blocking call that could only return if this same thread released something first, e.g.
 * `lock()` on a Mutex this instance already holds.
 *
 * @example
 * ```ts
 * import { DeadlockError, Mutex } from "@futex/sync";
 * const m = new Mutex();
 * m.lock();
 * try { m.lock(); } catch (e) { e instanceof DeadlockError; } // true
 * ```
 */
export class DeadlockError extends Error {
  /** Create the error with a message saying what to do instead. */
  constructor(message: string) {
    super(message);
    this.name = "DeadlockError";
  }
}

/**
 * A release of something that is not held: unlocking an unlocked Mutex or LockCnt, or an
 * unlock through an instance that did not lock.
 *
 * @example
 * ```ts
 * import { Mutex, NotHeldError } from "@futex/sync";
 * try { new Mutex().unlock(); } catch (e) { e instanceof NotHeldError; } // true
 * ```
 */
export class NotHeldError extends Error {
  /** Create the error with a message saying what to do instead. */
  constructor(message: string) {
    super(message);
    this.name = "NotHeldError";
  }
}

/**
 * A robust Mutex's previous holder died holding it. The lock is now held by the caller, and
 * what it guarded may be half-updated: repair it, then call `markConsistent()` and `unlock()`.
 * An `unlock()` without `markConsistent()` makes the mutex unrecoverable for every process.
 *
 * @example
 * ```ts
 * import { Mutex, OwnerDiedError } from "@futex/sync";
 * // const m = new Mutex({ robust: true, futex: nativeFutex() });
 * // try { m.lock(); } catch (e) { if (!(e instanceof OwnerDiedError)) throw e; repair(); m.markConsistent(); }
 * ```
 */
export class OwnerDiedError extends Error {
  /** The dead owner's process id (0 if it was not recorded). */
  ownerPid = 0;
  /** The dead owner's thread id (0 if the word named none). */
  ownerTid = 0;
  /** Create the error with a message saying what to do. */
  constructor(message: string) {
    super(message);
    this.name = "OwnerDiedError";
  }
}

/**
 * A robust Mutex was unlocked after its owner died without `markConsistent()`: its state is
 * declared lost, and every later lock throws this (`tryLock()` returns false), in every process.
 *
 * @example
 * ```ts
 * import { NotRecoverableError } from "@futex/sync";
 * new NotRecoverableError("…").name; // "NotRecoverableError"
 * ```
 */
export class NotRecoverableError extends Error {
  /** Create the error with a message saying what to do. */
  constructor(message: string) {
    super(message);
    this.name = "NotRecoverableError";
  }
}

/**
 * A `Barrier` wait that cannot complete: a party of the current generation gave up (timed out
 * or was aborted), or the barrier was `reset()` under a waiting party. Every current and later
 * waiter gets it until `reset()` (Java's `BrokenBarrierException`).
 *
 * @example
 * ```ts
 * import { Barrier, BrokenBarrierError } from "@futex/sync";
 * const b = new Barrier(2);
 * try { b.wait(10); } catch (e) { (e as Error).name; } // "TimeoutError": it gave up, and broke the barrier
 * try { b.wait(); } catch (e) { e instanceof BrokenBarrierError; } // true
 * ```
 */
export class BrokenBarrierError extends Error {
  /** Create the error with a message saying what happened and what to do. */
  constructor(message: string) {
    super(message);
    this.name = "BrokenBarrierError";
  }
}
