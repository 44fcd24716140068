/**
 * Once — one-time initialisation shared between workers: Rust std's futex Once
 * (library/std/src/sys/sync/once/futex.rs) on one word, adapted so that a throwing `fn` leaves
 * the Once INCOMPLETE (a later or waiting caller tries again) instead of POISONED.
 *
 * States of the word:
 *   0 INCOMPLETE  nobody has completed fn; the next caller runs it
 *   1 RUNNING     a caller is running fn, nobody waits
 *   2 QUEUED      a caller is running fn, waiters may sleep: its end wakes all
 *   3 COMPLETE    fn completed: every call returns at once
 *   anything else: not a Once word — TypeError, the word left as it is
 *
 * run (step, one loop for run() and runAsync()):
 *   COMPLETE → done. INCOMPLETE → CAS 0→RUNNING: this caller runs fn. RUNNING → CAS 1→2
 *   (announce), then sleep while QUEUED. QUEUED → sleep while QUEUED. Re-read after every return.
 * the runner, after fn returned (or its promise fulfilled): exchange → COMPLETE; if the old value
 *   was QUEUED, wake all. COMPLETE is stored only AFTER fn has ended: stored before, a waiter
 *   would return to a half-initialised world (tests/models/once.pml rejects COMPLETE_EARLY).
 * the runner, after fn threw (or its promise rejected): exchange → INCOMPLETE; if QUEUED, wake
 *   all: every waiter re-steps, one of them wins the CAS 0→RUNNING and runs fn again.
 * give-up: there is none (run has no timeout); an abort of runAsync's wait takes nothing.
 *
 * All Atomics operations are sequentially consistent: writes made by fn are visible to every
 * caller that returns after seeing COMPLETE.
 *
 * Per thread: a blocking run() while this thread runs fn on the same word (fn calls run()
 * again, or a runAsync's fn of this thread is pending) could never return: DeadlockError.
 *
 * @module
 */

import { ContendedWait, runAsync, runBlocking, STEP_SLEEP, STEP_TRUE } from "./contended.ts";
import { DeadlockError } from "./errors.ts";
import type { Futex } from "./futex.ts";
import { spinWhileEqual } from "./spin.ts";
import {
  attachedOptions,
  attachChecked,
  type AttachOptions,
  type CommonOptions,
  createSetup,
  refuseLiveWord,
  takeAttached,
} from "./primitive.ts";
import { checkOptions, checkSignal } from "./validate.ts";
import type { Placement, WordHandle, WordRecord } from "./word.ts";

/** fn has not completed. */
export const ONCE_INCOMPLETE = 0;
/** fn is running, nobody waits. */
export const ONCE_RUNNING = 1;
/** fn is running, waiters may sleep. */
export const ONCE_QUEUED = 2;
/** fn has completed. */
export const ONCE_COMPLETE = 3;

const KIND = "Once";

function corrupted(where: string, v: number): TypeError {
  return new TypeError(
    `${where}: the Once word holds ${v}, which is no Once state (0 incomplete, 1 running, 2 queued, 3 complete); ` +
      "something else wrote to it — a word must hold one primitive at a time",
  );
}

/** The run loop (run() and runAsync() alike): finishes with `mustRun` set if this caller won fn. */
class OnceWait extends ContendedWait {
  /** Set by step(): this caller moved the word 0 → RUNNING and must run fn. */
  mustRun = false;

  readonly view: Int32Array;
  readonly where: string;
  readonly record: WordRecord;
  readonly owner: Once;

  constructor(view: Int32Array, where: string, record: WordRecord, owner: Once) {
    super();
    this.view = view;
    this.where = where;
    this.record = record;
    this.owner = owner;
  }

  step(): number {
    const view = this.view;
    let v = Atomics.load(view, 0);
    if (v === ONCE_RUNNING && !this.slept && this.spins > 0) v = spinWhileEqual(view, 0, v, this.spins);
    for (;;) {
      if (v === ONCE_COMPLETE) return STEP_TRUE;
      if (v === ONCE_INCOMPLETE) {
        v = Atomics.compareExchange(view, 0, ONCE_INCOMPLETE, ONCE_RUNNING);
        if (v === ONCE_INCOMPLETE) {
          this.record.holder = this.owner; // at once: a blocking run() of this thread from now on is DeadlockError
          this.mustRun = true;
          return STEP_TRUE;
        }
        continue;
      }
      if (v === ONCE_RUNNING) {
        v = Atomics.compareExchange(view, 0, ONCE_RUNNING, ONCE_QUEUED); // announce: the runner's end must wake
        if (v !== ONCE_RUNNING) continue;
        v = ONCE_QUEUED;
      }
      if (v !== ONCE_QUEUED) throw corrupted(this.where, v);
      this.expected = ONCE_QUEUED;
      return STEP_SLEEP;
    }
  }

  giveUp(): void {} // the runner's end wakes all: nothing to pass on
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") &&
    typeof (v as PromiseLike<unknown>).then === "function";
}

/** Options for `new Once(...)`. */
export interface OnceOptions extends Placement, CommonOptions {}

/**
 * Run an initialisation exactly once across workers: the first caller of `run(fn)` runs `fn`,
 * every other caller (in any worker) waits until it has completed. If `fn` throws, the Once
 * stays incomplete and the next caller (a waiting one included) runs its own `fn`.
 *
 * @example
 * ```ts
 * import { Once } from "@futex/sync";
 * const init = new Once();             // post init.handle; Once.from(handle) in workers
 * init.run(() => console.log("initialising"));  // true: this call ran fn
 * init.run(() => console.log("never printed")); // false: already complete
 * await init.runAsync(async () => {});           // false
 * ```
 */
export class Once {
  readonly #view: Int32Array;
  readonly #futex: Futex;
  readonly #spins: number;
  readonly #record: WordRecord;
  #wait: OnceWait | undefined;
  /** Where the word lives: post it to a worker and attach with {@link Once.from}. */
  readonly handle: WordHandle;

  /** Create an incomplete Once in a fresh word or at `{ buffer, byteOffset }`. */
  constructor(options?: OnceOptions) {
    const attached = takeAttached(options);
    const setup = attached ?? createSetup(`new ${KIND}`, KIND, options);
    this.#view = setup.view;
    this.#futex = setup.futex;
    this.#spins = setup.spins;
    this.#record = setup.record;
    this.handle = Object.freeze(setup.handle);
    if (attached === undefined) {
      const v = Atomics.load(this.#view, 0);
      refuseLiveWord(`new ${KIND}`, KIND, setup, v === ONCE_RUNNING ? "running" : v === ONCE_QUEUED ? "running, with waiters" : undefined);
      Atomics.store(this.#view, 0, ONCE_INCOMPLETE);
    }
  }

  /**
   * Attach to an existing Once (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { Once } from "@futex/sync";
   * const once = new Once();
   * const same = Once.from(once.handle); // in a worker: Once.from(workerData.once)
   * same.run(() => {});
   * once.isCompleted; // true
   * ```
   */
  static from(handle: WordHandle, options?: AttachOptions): Once {
    const setup = attachChecked(
      KIND,
      handle,
      options,
      (v) => v >= ONCE_INCOMPLETE && v <= ONCE_COMPLETE,
      "Once",
      "0 incomplete, 1 running, 2 queued, 3 complete",
    );
    return new Once(attachedOptions(setup));
  }

  /** Whether fn has completed (a snapshot; once true, true for ever). */
  get isCompleted(): boolean {
    return Atomics.load(this.#view, 0) === ONCE_COMPLETE;
  }

  /**
   * Run `fn` if nobody has completed it yet, else wait (blocking) until the caller running it
   * finishes; returns true if this call ran `fn` to completion. If `fn` throws, the error
   * propagates and the Once stays incomplete; a waiter then runs its own `fn`. Spins briefly
   * before sleeping. A `fn` that returns a promise is refused (TypeError, the Once left
   * incomplete): use {@link runAsync}. Throws DeadlockError when called inside this thread's
   * own running `fn` (through any instance on the word).
   */
  run(fn: () => void): boolean {
    const where = `${KIND}.run`;
    if (typeof fn !== "function") throw new TypeError(`${where}: pass the function to run once`);
    if (Atomics.load(this.#view, 0) === ONCE_COMPLETE) return false;
    if (this.#record.holder !== undefined) {
      throw new DeadlockError(
        `${where}: this thread is running this Once's fn (through this or another instance), so waiting for it to complete ` +
          "would never end; do not call run() from inside fn, or await runAsync() from another task",
      );
    }
    const w = this.#wait ??= new OnceWait(this.#view, where, this.#record, this);
    w.slept = false;
    w.mustRun = false;
    w.spins = this.#spins;
    runBlocking(w, this.#view, this.#futex, undefined, this.#record, false, where);
    if (!w.mustRun) return false;
    w.mustRun = false;
    let result: unknown;
    try {
      result = fn();
    } catch (e) {
      this.#finish(ONCE_INCOMPLETE);
      throw e;
    }
    if (isThenable(result)) {
      this.#finish(ONCE_INCOMPLETE);
      throw new TypeError(`${where}: fn returned a promise, and run() cannot wait for it; use runAsync(fn) for an async fn`);
    }
    this.#finish(ONCE_COMPLETE);
    return true;
  }

  /**
   * Like {@link run} without blocking the thread: `fn` may be async (the Once completes when
   * its promise fulfils; a rejection leaves it incomplete). Waiters await; `signal` aborts
   * only this caller's wait (rejecting with `signal.reason`), never a running `fn`. Resolves
   * true if this call ran `fn` to completion. Never spins.
   */
  async runAsync(fn: () => unknown, options?: { signal?: AbortSignal }): Promise<boolean> {
    const where = `${KIND}.runAsync`;
    if (typeof fn !== "function") throw new TypeError(`${where}: pass the function to run once`);
    const signal = checkSignal(checkOptions<{ signal: AbortSignal }>(options, where).signal, where);
    if (signal?.aborted) throw signal.reason;
    if (Atomics.load(this.#view, 0) === ONCE_COMPLETE) return false;
    const w = new OnceWait(this.#view, where, this.#record, this);
    await runAsync(w, this.#view, this.#futex, undefined, signal, this.#record, where);
    if (!w.mustRun) return false;
    try {
      await fn();
    } catch (e) {
      this.#finish(ONCE_INCOMPLETE);
      throw e;
    }
    this.#finish(ONCE_COMPLETE);
    return true;
  }

  /** The runner's end: publish `state` (COMPLETE, or INCOMPLETE after a throw); wake all if queued. */
  #finish(state: number): void {
    this.#record.holder = undefined;
    const old = Atomics.exchange(this.#view, 0, state);
    if (old === ONCE_QUEUED) this.#futex.wakeAll(this.#view, 0);
    else if (old !== ONCE_RUNNING) throw corrupted(`${KIND}.run`, old);
  }
}
