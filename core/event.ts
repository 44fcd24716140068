/**
 * ManualResetEvent — QEMU's QemuEvent (util/event.c) on one 32-bit word.
 *
 * States (bit-compatible with QEMU; read through an Int32Array so BUSY is -1):
 *   SET  =  0  signalled: waits return at once
 *   FREE =  1  not signalled, nobody announced a sleep
 *   BUSY = -1  not signalled, a waiter may be asleep in the futex
 *
 * Transitions:
 *   set:   FREE→SET (no wake), BUSY→SET then wake ALL (a manual-reset event releases everyone)
 *   reset: one atomic OR 1: SET→FREE, FREE and BUSY unchanged — so BUSY→FREE, which would
 *          strand a sleeper behind a set that skips the wake, can never happen
 *   wait:  FREE→BUSY by CAS (announce), sleep while BUSY, re-check after every return — one
 *          step (core/contended.ts) driven by wait() and waitAsync() alike; a timed-out or
 *          aborted waiter leaves nothing to pass on (set wakes all)
 *   any other value is no event state: TypeError, the word left as it is
 *
 * All Atomics operations are sequentially consistent, which gives QEMU's ordering contract:
 * writes before set() are visible after a wait() that saw SET, and the store-buffering (Dekker)
 * idiom "publish flag; set" / "reset; re-check flag; wait" cannot lose a wakeup.
 * The setter touches the word only before the waiter can return; its wake is keyed by address,
 * so the waiter may free or reuse the word as soon as wait() returns.
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
import { checkTimeout } from "./validate.ts";
import type { Placement, WordHandle, WordRecord } from "./word.ts";

/** QEMU's EV_SET: signalled. */
export const EV_SET = 0;
/** QEMU's EV_FREE: not signalled, no sleeper announced. */
export const EV_FREE = 1;
/** QEMU's EV_BUSY: not signalled, waiters may sleep in the futex. */
export const EV_BUSY: number = -1;

const KIND = "ManualResetEvent";
const WHERE_WAIT = `${KIND}.wait`; // built once: a template per call costs a string on the hot path

function corrupted(v: number): TypeError {
  return new TypeError(
    `${KIND}: the word holds ${v}, which is no event state (0 set, 1 free, -1 busy); ` +
      "something else wrote to it — a word must hold one primitive at a time",
  );
}

/** The contended wait loop (wait() and waitAsync() alike). */
class EventWait extends ContendedWait {
  readonly view: Int32Array;
  constructor(view: Int32Array) {
    super();
    this.view = view;
  }

  step(): number {
    const view = this.view;
    let v = Atomics.load(view, 0); // any return may be spurious: decide from the word
    for (;;) {
      if (v === EV_SET) return STEP_TRUE;
      if (v === EV_FREE) {
        const old = Atomics.compareExchange(view, 0, EV_FREE, EV_BUSY); // announce: the next set must wake
        if (old !== EV_FREE) {
          v = old; // a set (or another waiter's announce) won the race
          continue;
        }
      } else if (v !== EV_BUSY) {
        throw corrupted(v);
      }
      this.expected = EV_BUSY; // sleep only while still BUSY
      return STEP_SLEEP;
    }
  }

  giveUp(): void {} // the word may stay BUSY: harmless, the next set wakes nobody
}

/** Options for `new ManualResetEvent(...)`. */
export interface ManualResetEventOptions extends Placement, CommonOptions {
  /** Start signalled (default false: FREE). */
  set?: boolean;
}

/**
 * A manual-reset event shared between workers: `set()` releases every current and future waiter
 * until `reset()`. An event only says "look again": loop on your real condition.
 *
 * @example
 * ```ts
 * import { ManualResetEvent } from "@futex/sync";
 * import { Worker } from "node:worker_threads";
 *
 * const ready = new ManualResetEvent();
 * const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: ready.handle });
 * // in the worker: ManualResetEvent.from(workerData).set();
 * await ready.waitAsync({ timeout: 5000 });
 * ```
 */
export class ManualResetEvent {
  readonly #view: Int32Array;
  readonly #futex: Futex;
  readonly #spins: number;
  readonly #record: WordRecord;
  #wait: EventWait | undefined;
  /** Where the word lives: post it to a worker and attach with {@link ManualResetEvent.from}. */
  readonly handle: WordHandle;

  /**
   * Create an event (initially not set unless `{ set: true }`), in its own 4-byte
   * SharedArrayBuffer or at `{ buffer, byteOffset }`. Initialising a word that others are
   * waiting on loses their wakeup: create once, then share the handle.
   */
  constructor(options?: ManualResetEventOptions) {
    const attached = takeAttached(options);
    const setup = attached ?? createSetup(`new ${KIND}`, KIND, options);
    this.#view = setup.view;
    this.#futex = setup.futex;
    this.#spins = setup.spins;
    this.#record = setup.record;
    this.handle = Object.freeze(setup.handle);
    if (attached === undefined) {
      const initial = (options as ManualResetEventOptions | undefined)?.set;
      if (initial !== undefined && typeof initial !== "boolean") {
        throw new TypeError(`new ${KIND}: set must be a boolean (got ${typeof initial})`);
      }
      refuseLiveWord(`new ${KIND}`, KIND, setup, Atomics.load(this.#view, 0) === EV_BUSY ? "an event with waiters" : undefined);
      Atomics.store(this.#view, 0, initial === true ? EV_SET : EV_FREE);
    }
  }

  /**
   * Attach to an existing event (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { ManualResetEvent } from "@futex/sync";
   * import { workerData } from "node:worker_threads";
   * const ev = ManualResetEvent.from(workerData);
   * ev.set();
   * ```
   */
  static from(handle: WordHandle, options?: AttachOptions): ManualResetEvent {
    const setup = attachChecked(
      KIND,
      handle,
      options,
      (v) => v === EV_SET || v === EV_FREE || v === EV_BUSY,
      "event",
      "0 set, 1 free, -1 busy",
    );
    return new ManualResetEvent(attachedOptions(setup));
  }

  /** The futex driving this event. */
  get futex(): Futex {
    return this.#futex;
  }

  /** Whether the event is signalled right now (a snapshot: it may change at once). */
  get isSet(): boolean {
    return Atomics.load(this.#view, 0) === EV_SET;
  }

  /**
   * Signal the event: every current and future waiter returns until the next `reset()`.
   * Wakes sleepers only if one announced itself (BUSY): a set nobody waits for makes no call.
   */
  set(): void {
    const view = this.#view;
    // SC peek: already SET needs no write; otherwise publish SET, and wake only if it replaced BUSY.
    if (Atomics.load(view, 0) !== EV_SET && Atomics.exchange(view, 0, EV_SET) === EV_BUSY) {
      this.#futex.wakeAll(view, 0);
    }
  }

  /** Un-signal the event (SET→FREE). A no-op if it is not set; never drops a sleeper. */
  reset(): void {
    Atomics.or(this.#view, 0, EV_FREE); // SET|1 = FREE, FREE|1 = FREE, BUSY|1 = BUSY
  }

  /**
   * Block until the event is set, or `timeoutMs` passes. Returns true if it saw the event set,
   * false on timeout. Spins briefly before sleeping (see `spin`). Blocks the calling thread:
   * use {@link waitAsync} on a thread that runs an event loop you need.
   */
  wait(timeoutMs?: number): boolean {
    const timeout = checkTimeout(timeoutMs, WHERE_WAIT);
    const v = Atomics.load(this.#view, 0);
    if (v === EV_SET) return true;
    if (timeout === 0) {
      if (v !== EV_FREE && v !== EV_BUSY) throw corrupted(v);
      return false;
    }
    // Spin here, before the step announces BUSY: a set during the spin costs the setter no wake.
    // (Spinning inside the step measured ~1.7× slower ping-pong in Node 20: docs/benchmarks.md.)
    if (this.#spins > 0 && spinWhileEqual(this.#view, 0, v, this.#spins) === EV_SET) return true;
    const w = this.#wait ??= new EventWait(this.#view);
    w.slept = false;
    // set() wakes every sleeper, so a pending waitAsync of this thread cannot take our wake: allowed.
    return runBlocking(w, this.#view, this.#futex, timeout, this.#record, false, WHERE_WAIT);
  }

  /**
   * Wait without blocking the thread. Resolves true when it sees the event set, false after
   * `timeout` ms; rejects with `signal.reason` if `signal` aborts. Keeps the process alive while
   * pending (no runtime does that for `Atomics.waitAsync` by itself) and never spins.
   *
   * @example
   * ```ts
   * import { ManualResetEvent } from "@futex/sync";
   * const ev = new ManualResetEvent();
   * setTimeout(() => ev.set(), 10);
   * await ev.waitAsync({ timeout: 1000, signal: AbortSignal.timeout(2000) }); // true
   * ```
   */
  async waitAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const { timeout, signal } = asyncOptions(`${KIND}.waitAsync`, options);
    const v = Atomics.load(this.#view, 0);
    if (v === EV_SET) return true;
    if (timeout === 0) {
      if (v !== EV_FREE && v !== EV_BUSY) throw corrupted(v);
      return false;
    }
    const w = new EventWait(this.#view);
    return runAsync(w, this.#view, this.#futex, timeout, signal, this.#record, `${KIND}.waitAsync`);
  }
}
