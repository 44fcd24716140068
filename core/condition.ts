/**
 * Condition — a condition variable on one futex word, used with a {@link Mutex}. The design is
 * Rust std's futex condvar (library/std/src/sys/sync/condvar/futex.rs): the word is a sequence
 * number that every notify increments.
 *
 * The word: a sequence, any 32-bit value (it wraps). Every value is a valid state, so there is
 * no corrupted word to detect, and `new Condition(...)` at a placement leaves the word as it is
 * (overwriting a live sequence could send its sleepers back to sleep past a notify).
 *
 * wait(mutex):  seq = load(word) — BEFORE the unlock; unlock the mutex; sleep while the word is
 *               still seq (re-check after every return: wakes may be spurious); re-lock the mutex,
 *               always (also after a timeout). Returns false when it gave up with the word unchanged.
 *               Reading seq after the unlock loses a wakeup: a notify between the unlock and the
 *               read is then already counted in seq, and the waiter sleeps through it.
 * notifyOne:    increment, then wake one. notifyAll: increment, then wake all. The increment must
 *               come first: a waiter that reads the old value and then finds the word changed
 *               never sleeps; one that sleeps is woken by the wake that follows.
 * give-up:      a waiter that leaves without success (timeout, abort) after sleeping may have
 *               consumed a notifyOne's wake (an abort can race a wake); if the word moved past
 *               seq it passes one wake on (a spurious wake for someone else is allowed).
 *
 * A blocking wait beside a pending waitAsync of the same thread on the same condition is refused
 * (DeadlockError): a notifyOne could wake the async waiter, whose thread is the blocked one.
 *
 * @module
 */

import { ContendedWait, runAsync, runBlocking, STEP_SLEEP, STEP_TRUE } from "./contended.ts";
import { DeadlockError, NotHeldError } from "./errors.ts";
import type { Futex } from "./futex.ts";
import { Mutex } from "./mutex.ts";
import {
  asyncOptions,
  type AsyncWaitOptions,
  attachedOptions,
  attachSetup,
  type AttachOptions,
  type CommonOptions,
  createSetup,
  takeAttached,
} from "./primitive.ts";
import { checkTimeout } from "./validate.ts";
import type { Placement, WordHandle, WordRecord } from "./word.ts";

const KIND = "Condition";
const WHERE_WAIT = `${KIND}.wait`; // built once: a template per call costs a string on the hot path

/** Options for `new Condition(...)`. */
export interface ConditionOptions extends Placement, CommonOptions {}

/** The wait loop (wait() and waitAsync() alike): done once the sequence moved past `seen`. */
class ConditionWait extends ContendedWait {
  seen = 0;

  readonly view: Int32Array;
  readonly futex: Futex;

  constructor(view: Int32Array, futex: Futex) {
    super();
    this.view = view;
    this.futex = futex;
  }

  step(): number {
    if (Atomics.load(this.view, 0) !== this.seen) return STEP_TRUE; // a notify happened since we read seen
    this.expected = this.seen;
    return STEP_SLEEP;
  }

  giveUp(): void {
    if (Atomics.load(this.view, 0) !== this.seen) this.futex.wakeOne(this.view, 0);
  }
}

/**
 * A condition variable shared between workers, used with a {@link Mutex} on the same futex
 * domain. Wait in a loop on your predicate: a wait may return without a notify.
 *
 * @example
 * ```ts
 * import { Condition, Mutex } from "@futex/sync";
 * const m = new Mutex();
 * const ready = new Condition();               // post m.handle and ready.handle to workers
 * const flag = new Int32Array(new SharedArrayBuffer(4));
 * // a worker: m.lock(); flag[0] = 1; ready.notifyAll(); m.unlock();
 * m.lock();
 * while (flag[0] === 0) if (!ready.wait(m, 1000)) break; // still holds m after a timeout
 * m.unlock();
 * ```
 */
export class Condition {
  readonly #view: Int32Array;
  readonly #futex: Futex;
  readonly #record: WordRecord;
  /** Reused by blocking wait(): a thread runs one blocking call at a time. */
  #wait: ConditionWait | undefined;
  /** Where the word lives: post it to a worker and attach with {@link Condition.from}. */
  readonly handle: WordHandle;

  /**
   * Create a condition in its own 4-byte SharedArrayBuffer (word 0) or at `{ buffer, byteOffset }`
   * (the word is left as it is: every value is a valid sequence).
   */
  constructor(options?: ConditionOptions) {
    const attached = takeAttached(options);
    const setup = attached ?? createSetup(`new ${KIND}`, KIND, options);
    this.#view = setup.view;
    this.#futex = setup.futex;
    this.#record = setup.record;
    this.handle = Object.freeze(setup.handle);
    if (attached === undefined && this.#record.holder !== undefined) {
      throw new DeadlockError(`new ${KIND}: this thread holds a lock on that word; a word must hold one primitive at a time`);
    }
  }

  /**
   * Attach to an existing condition (for example in a worker). Any word value is accepted.
   *
   * @example
   * ```ts
   * import { Condition } from "@futex/sync";
   * const c = new Condition();
   * const same = Condition.from(c.handle); // in a worker: Condition.from(workerData.cond)
   * same.notifyAll();
   * c.sequence; // 1
   * ```
   */
  static from(handle: WordHandle, options?: AttachOptions): Condition {
    return new Condition(attachedOptions(attachSetup(`${KIND}.from`, KIND, handle, options)));
  }

  /** The sequence word right now (a snapshot; every notify adds 1, wrapping). */
  get sequence(): number {
    return Atomics.load(this.#view, 0);
  }

  #check(where: string, mutex: unknown): Mutex {
    if (!(mutex instanceof Mutex)) {
      throw new TypeError(`${where}: pass the Mutex that guards the condition's state (got ${mutex === null ? "null" : typeof mutex})`);
    }
    if (mutex.handle.domain !== this.handle.domain) {
      throw new TypeError(
        `${where}: the mutex is driven by the "${String(mutex.handle.domain)}" futex domain and the condition by "${String(this.handle.domain)}"; ` +
          "they must share one (a condition shared across processes with a process-local mutex, or the reverse, guards nothing) — " +
          "create both with the same futex, or attach both through the same region",
      );
    }
    if (!mutex.held) {
      throw new NotHeldError(`${where}: this instance of the mutex is not held; lock it, check your predicate, then wait`);
    }
    return mutex;
  }

  /**
   * Release `mutex` (held by this instance), sleep until notified or `timeoutMs` passes, then
   * lock `mutex` again — always, also after a timeout (the re-lock itself is not timed). Returns
   * false if the wait timed out with no notify. May return true without a notify of yours (any
   * notify of the condition, or a spurious wake): check your predicate in a loop. Throws
   * NotHeldError (nothing changed) if the mutex is not held, DeadlockError if this thread has a
   * pending {@link waitAsync} on this condition. The re-lock is `mutex.lock()`: if this thread
   * also has a pending `lockAsync` on the mutex and another thread holds it then, that lock is
   * refused (DeadlockError, the mutex not held) — mixing the two in one thread, use waitAsync.
   */
  wait(mutex: Mutex, timeoutMs?: number): boolean {
    const timeout = checkTimeout(timeoutMs, WHERE_WAIT);
    this.#check(WHERE_WAIT, mutex);
    if (this.#record.asyncWaits > 0) {
      throw new DeadlockError(
        `${KIND}.wait: this thread has a pending ${this.#record.asyncWhat} on this condition; a notifyOne could wake it, ` +
          "whose thread is this blocked one — await it, or use waitAsync here too",
      );
    }
    const w = this.#wait ??= new ConditionWait(this.#view, this.#futex);
    w.seen = Atomics.load(this.#view, 0); // before the unlock: a notify after it changes the word
    w.slept = false;
    mutex.unlock();
    let ok: boolean;
    try {
      ok = runBlocking(w, this.#view, this.#futex, timeout, this.#record, true, WHERE_WAIT);
    } finally {
      mutex.lock();
    }
    return ok;
  }

  /**
   * The same without blocking the thread: releases `mutex` at once, resolves true when notified
   * or false after `timeout` ms, in both cases with `mutex` locked again by this instance (through
   * `lockAsync`). If `signal` aborts, it re-locks `mutex` and then rejects with `signal.reason`:
   * the caller holds the mutex whichever way the promise settles. Rejects without touching the
   * mutex for bad input, a mutex not held, or a signal already aborted.
   */
  async waitAsync(mutex: Mutex, options?: AsyncWaitOptions): Promise<boolean> {
    const { timeout, signal } = asyncOptions(`${KIND}.waitAsync`, options);
    this.#check(`${KIND}.waitAsync`, mutex);
    const w = new ConditionWait(this.#view, this.#futex);
    w.seen = Atomics.load(this.#view, 0); // before the unlock
    mutex.unlock();
    let ok: boolean;
    try {
      ok = await runAsync(w, this.#view, this.#futex, timeout, signal, this.#record, `${KIND}.waitAsync`);
    } finally {
      await mutex.lockAsync();
    }
    return ok;
  }

  /** Wake one waiter (if any): increments the sequence, then wakes one sleeper. */
  notifyOne(): void {
    Atomics.add(this.#view, 0, 1);
    this.#futex.wakeOne(this.#view, 0);
  }

  /** Wake every waiter: increments the sequence, then wakes all sleepers. */
  notifyAll(): void {
    Atomics.add(this.#view, 0, 1);
    this.#futex.wakeAll(this.#view, 0);
  }
}
