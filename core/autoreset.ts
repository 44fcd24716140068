/**
 * AutoResetEvent — Win32's auto-reset event (SetEvent releases exactly one waiter, or leaves the
 * event set for the next one; a set on a set event does nothing) on one futex word. The word
 * counts, like a semaphore (core/semaphore.ts) bounded by its waiters, the sets handed out and
 * the sleepers announced, so a set made while N waiters sleep is theirs — it cannot be
 * coalesced away while the woken sleeper has not yet run (the hazard of a bare SET/UNSET bit).
 *
 * The word: bits 0–15 P = sets not yet taken, bits 16–30 W = waiters announced (asleep or about
 * to be), bit 31 always 0. Invariant P ≤ W + 1. So:
 *   0            unset, nobody waits                      1          set, nobody waits
 *   W·2¹⁶        unset, W waiters                         W·2¹⁶ + P  P of the W waiters may go (P ≤ W)
 *   W·2¹⁶ + W+1  every waiter may go, and the event stays set for the next arrival
 *   anything else (bit 31, or P > W + 1): TypeError naming the value, the word left as it is.
 *
 * set:    P > W: already set — no change, returns false. Otherwise CAS P → P + 1 and, if P < W (a
 *         waiter without a set exists), wake one. A set nobody waits for makes no futex call.
 * wait (step, one loop for wait() and waitAsync()): P > 0 → CAS P − 1 (and W − 1 if this caller
 *         announced): done. Otherwise announce once (CAS W + 1) and sleep while the word is
 *         exactly what it saw. An arrival may take a set a woken sleeper was meant to get (the
 *         sleeper re-steps and sleeps again): each set still releases exactly one waiter.
 * give-up (timeout, abort; or any other exit after announcing): withdraw — CAS W − 1, P clamped
 *         to the new W + 1 (the event holds at most one set beyond its sleepers) — and, if sets
 *         remain for other sleepers (P > 0, W > 0), wake one: this caller may have consumed the
 *         wake that set sent. A set is never lost to a waiter that left: it goes to a sleeper or
 *         stays as the event's one set.
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
import { checkOptions, checkTimeout } from "./validate.ts";
import type { Placement, WordHandle, WordRecord } from "./word.ts";

/** Unset, nobody waiting. */
export const ARE_UNSET = 0;
/** Set, nobody waiting. */
export const ARE_SET = 1;
/** One announced waiter (bits 16–30 count them). */
export const ARE_WAITER = 0x10000;
/** Bits 0–15: sets not yet taken. */
export const ARE_SETS_MASK = 0xffff;
/** The most waiters an AutoResetEvent can have announced at once. */
export const ARE_MAX_WAITERS = 0x7fff;

const KIND = "AutoResetEvent";

function isState(v: number): boolean {
  return v >= 0 && (v & ARE_SETS_MASK) <= (v >>> 16) + 1;
}

function corrupted(where: string, v: number): TypeError {
  return new TypeError(
    `${where}: the word holds ${v} (${v & ARE_SETS_MASK} sets, ${(v >>> 16) & 0x7fff} waiters${v < 0 ? ", bit 31 set" : ""}), ` +
      "which is no auto-reset event state (sets ≤ waiters + 1, bit 31 clear); something else wrote to it — a word must " +
      "hold one primitive at a time",
  );
}

/** The wait loop (wait() and waitAsync() alike). */
class AutoResetWait extends ContendedWait {
  /** This caller is counted in W. */
  announced = false;

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
    let v = Atomics.load(view, 0);
    if (!this.announced && this.spins > 0 && (v & ARE_SETS_MASK) === 0) v = spinWhileEqual(view, 0, v, this.spins);
    for (;;) {
      if (!isState(v)) throw corrupted(this.where, v);
      if ((v & ARE_SETS_MASK) > 0) {
        const want = v - 1 - (this.announced ? ARE_WAITER : 0);
        const seen = Atomics.compareExchange(view, 0, v, want);
        if (seen === v) {
          this.announced = false;
          return STEP_TRUE;
        }
        v = seen;
        continue;
      }
      if (!this.announced) {
        if (v >>> 16 >= ARE_MAX_WAITERS) {
          throw new RangeError(`${this.where}: ${ARE_MAX_WAITERS} waiters are already announced on this event, the most it counts`);
        }
        const seen = Atomics.compareExchange(view, 0, v, v + ARE_WAITER); // announce: a set must wake
        if (seen !== v) {
          v = seen;
          continue;
        }
        this.announced = true;
        v += ARE_WAITER;
      }
      this.expected = v; // sleep only while nothing changed
      return STEP_SLEEP;
    }
  }

  giveUp(): void {
    if (!this.announced) return;
    this.announced = false;
    const view = this.view;
    let v = Atomics.load(view, 0);
    for (;;) {
      if (!isState(v) || v >>> 16 === 0) throw corrupted(this.where, v);
      const w = (v >>> 16) - 1;
      const p = Math.min(v & ARE_SETS_MASK, w + 1);
      const seen = Atomics.compareExchange(view, 0, v, w * ARE_WAITER + p);
      if (seen === v) {
        if (p > 0 && w > 0) this.futex.wakeOne(view, 0); // pass on the wake this caller may have taken
        return;
      }
      v = seen;
    }
  }
}

/** Options for `new AutoResetEvent(...)`. */
export interface AutoResetEventOptions extends Placement, CommonOptions {
  /** Start set (default false). */
  set?: boolean;
}

/**
 * An auto-reset event shared between workers: each `set()` releases exactly one waiter, or —
 * if nobody waits — stays set until the next `wait()` takes it. A set on a set event does nothing.
 *
 * @example
 * ```ts
 * import { AutoResetEvent } from "@futex/sync";
 * const ev = new AutoResetEvent();   // post ev.handle; AutoResetEvent.from(handle) in workers
 * ev.set();                          // true: nobody waits, so it stays set
 * ev.set();                          // false: already set
 * ev.wait(0);                        // true, and resets it
 * ev.wait(0);                        // false
 * ```
 */
export class AutoResetEvent {
  readonly #view: Int32Array;
  readonly #futex: Futex;
  readonly #spins: number;
  readonly #record: WordRecord;
  #wait: AutoResetWait | undefined;
  /** Where the word lives: post it to a worker and attach with {@link AutoResetEvent.from}. */
  readonly handle: WordHandle;

  /** Create an event (unset unless `{ set: true }`) in a fresh word or at `{ buffer, byteOffset }`. */
  constructor(options?: AutoResetEventOptions) {
    const attached = takeAttached(options);
    if (attached === undefined) {
      const initial = checkOptions<AutoResetEventOptions>(options, `new ${KIND}`).set;
      if (initial !== undefined && typeof initial !== "boolean") {
        throw new TypeError(`new ${KIND}: set must be a boolean (got ${typeof initial})`);
      }
    }
    const setup = attached ?? createSetup(`new ${KIND}`, KIND, options);
    this.#view = setup.view;
    this.#futex = setup.futex;
    this.#spins = setup.spins;
    this.#record = setup.record;
    this.handle = Object.freeze(setup.handle);
    if (attached === undefined) {
      const v = Atomics.load(this.#view, 0);
      refuseLiveWord(`new ${KIND}`, KIND, setup, isState(v) && v >= ARE_WAITER ? "an event with waiters" : undefined);
      Atomics.store(this.#view, 0, (options as AutoResetEventOptions | undefined)?.set === true ? ARE_SET : ARE_UNSET);
    }
  }

  /**
   * Attach to an existing event (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { AutoResetEvent } from "@futex/sync";
   * const ev = new AutoResetEvent();
   * const same = AutoResetEvent.from(ev.handle); // in a worker: AutoResetEvent.from(workerData.event)
   * same.set();
   * ev.isSet; // true
   * ```
   */
  static from(handle: WordHandle, options?: AttachOptions): AutoResetEvent {
    const setup = attachChecked(KIND, handle, options, isState, "auto-reset event", "bits 0–15 sets ≤ bits 16–30 waiters + 1, bit 31 clear");
    return new AutoResetEvent(attachedOptions(setup));
  }

  /** Whether a set is waiting for the next arrival (a snapshot). */
  get isSet(): boolean {
    const v = Atomics.load(this.#view, 0);
    return (v & ARE_SETS_MASK) > v >>> 16;
  }

  /**
   * Release exactly one waiter, or — if every waiter already has a set — leave the event set for
   * the next arrival. Returns false if the event was already set (the call changed nothing).
   * Wakes one sleeper only if a waiter without a set is announced.
   */
  set(): boolean {
    const view = this.#view;
    let v = Atomics.load(view, 0);
    for (;;) {
      if (!isState(v)) throw corrupted(`${KIND}.set`, v);
      const p = v & ARE_SETS_MASK;
      const w = v >>> 16;
      if (p > w) return false;
      const seen = Atomics.compareExchange(view, 0, v, v + 1);
      if (seen === v) {
        if (p < w) this.#futex.wakeOne(view, 0);
        return true;
      }
      v = seen;
    }
  }

  /** Take back a set nobody has taken yet (set → unset); returns whether there was one. Never touches waiters' sets. */
  reset(): boolean {
    const view = this.#view;
    let v = Atomics.load(view, 0);
    for (;;) {
      if (!isState(v)) throw corrupted(`${KIND}.reset`, v);
      if ((v & ARE_SETS_MASK) <= v >>> 16) return false;
      const seen = Atomics.compareExchange(view, 0, v, v - 1);
      if (seen === v) return true;
      v = seen;
    }
  }

  /**
   * Block until a set is taken (true; the event is reset by taking it) or `timeoutMs` passes
   * (false; `wait(0)` only polls). Spins briefly before announcing itself. Throws DeadlockError
   * if this thread has a pending {@link waitAsync} on the same event (a set wakes one: the wake
   * could go to the async waiter whose thread is blocked here).
   */
  wait(timeoutMs?: number): boolean {
    const where = `${KIND}.wait`;
    const timeout = checkTimeout(timeoutMs, where);
    if (this.#tryTake(where)) return true;
    if (timeout === 0) return false;
    const w = this.#wait ??= new AutoResetWait(this.#view, this.#futex, where);
    w.slept = false;
    w.announced = false;
    w.spins = this.#spins;
    try {
      return runBlocking(w, this.#view, this.#futex, timeout, this.#record, true, where);
    } finally {
      w.giveUp(); // still announced only if it leaves without a set (timeout before a sleep, or a throw)
    }
  }

  /**
   * Wait without blocking the thread: resolves true once it took a set, false after `timeout`
   * ms; rejects with `signal.reason` on abort, having taken nothing. Never spins.
   */
  async waitAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const where = `${KIND}.waitAsync`;
    const { timeout, signal } = asyncOptions(where, options);
    if (this.#tryTake(where)) return true;
    if (timeout === 0) return false;
    const w = new AutoResetWait(this.#view, this.#futex, where);
    try {
      return await runAsync(w, this.#view, this.#futex, timeout, signal, this.#record, where);
    } finally {
      w.giveUp();
    }
  }

  /** Take a set without announcing (the fast path and wait(0)). */
  #tryTake(where: string): boolean {
    const view = this.#view;
    let v = Atomics.load(view, 0);
    for (;;) {
      if (!isState(v)) throw corrupted(where, v);
      if ((v & ARE_SETS_MASK) === 0) return false;
      const seen = Atomics.compareExchange(view, 0, v, v - 1);
      if (seen === v) return true;
      v = seen;
    }
  }
}
