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
