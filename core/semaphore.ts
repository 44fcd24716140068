/**
 * Semaphore — a counting semaphore on one futex word (no mutex, no condition variable).
 *
 * The word: bits 0–30 the count of permits, bit 31 WAITERS ("someone may sleep"). Read through
 * an Int32Array, a word with WAITERS set is negative. A count above the semaphore's max is no
 * semaphore state: TypeError, the word left as it is.
 *
 * acquire (fast): if count > 0, CAS count→count-1 keeping the WAITERS bit (no futex call).
 * acquire (step, one loop for acquire() and acquireAsync()):
 *          spin while the word is unchanged, backing off (blocking callers given a `spin`:
 *          SEMAPHORE_DEFAULT_SPINS is 0; before the first sleep). If
 *          count > 0, take a permit; a thread that slept takes it with WAITERS set again: it
 *          cannot know whether others still sleep, so the next release wakes one more (the
 *          same baton rule as the mutex's CONTENDED state). Otherwise CAS in WAITERS|0 and
 *          sleep while the word is exactly that.
 * release: CAS count→count+n clearing WAITERS; if WAITERS was set, wake one (n = 1) or all
 *          (n > 1). A release nobody waits for makes no futex call.
 * surplus: an acquirer that leaves permits behind with WAITERS set wakes one more. Needed
 *          because a release clears WAITERS: two releases can meet one woken sleeper (the
 *          second release sees no WAITERS and wakes nobody), and the woken thread takes one
 *          permit while another sleeper would sleep on beside the second.
 * give-up: a timed-out or aborted acquirer that slept may have consumed a release's wake. If
 *          the word is exactly WAITERS|0 the next release wakes: nothing to do. Otherwise
 *          (permits there, or the mark gone) wake one, which re-marks or takes a permit.
 *
 * @module
 */

import { ContendedWait, runAsync, runBlocking, STEP_SLEEP, STEP_TRUE } from "./contended.ts";
import type { Futex } from "./futex.ts";
import { spinBackoff } from "./spin.ts";
import {
  asyncOptions,
  type AsyncWaitOptions,
  attachedOptions,
  attachSetup,
  type AttachOptions,
  type CommonOptions,
  createSetup,
  refuseLiveWord,
  type PrimitiveSetup,
  takeAttached,
} from "./primitive.ts";
import { checkCount, checkOptions, checkTimeout } from "./validate.ts";
import type { Placement, WordHandle, WordRecord } from "./word.ts";

/** The largest count a Semaphore can hold (31 bits). */
export const SEMAPHORE_MAX = 0x7fffffff;
/**
 * The Semaphore's default `spin`: none. Measured (docs/benchmarks.md): through a bounded buffer
 * an acquirer that spins keeps producer and consumer in lock-step, one cache-line transfer per
 * item, while one that sleeps lets the other side run ahead a batch — spin 0 was 1.09–1.10× the
 * hand-written Atomics semaphores in Deno and Bun, spin 1000 1.11–1.47×. glibc's sem_wait and
 * QEMU's QemuSemaphore do not spin either. Pass `{ spin }` for a semaphore used as a lock.
 */
export const SEMAPHORE_DEFAULT_SPINS = 0;
/** Bit 31 of the word: someone may sleep. */
export const SEMAPHORE_WAITERS: number = 0x80000000 | 0;
const COUNT = 0x7fffffff;
const KIND = "Semaphore";
const WHERE_ACQUIRE = `${KIND}.acquire`; // built once: a template per call costs a string on the hot path
const WHERE_RELEASE = `${KIND}.release`;

function corrupted(where: string, v: number, max: number): TypeError {
  return new TypeError(
    `${where}: the semaphore word holds ${v} (${v & COUNT} permits), more than its max ${max}: no semaphore state; ` +
      "something else wrote to it — a word must hold one primitive at a time",
  );
}

/** After taking a permit: hand a surplus on (see "surplus" above). */
function took(view: Int32Array, futex: Futex, now: number): void {
  if (now < 0 && (now & COUNT) > 0) futex.wakeOne(view, 0);
}

/** The contended acquire loop (acquire() and acquireAsync() alike). */
class SemaphoreWait extends ContendedWait {
  readonly view: Int32Array;
  readonly futex: Futex;
  readonly max: number;
  readonly where: string;
  constructor(view: Int32Array, futex: Futex, max: number, where: string) {
    super();
    this.view = view;
    this.futex = futex;
    this.max = max;
    this.where = where;
  }

  step(): number {
    const view = this.view;
    let v = Atomics.load(view, 0);
    if (!this.slept && this.spins > 0) v = spinBackoff(view, 0, v, this.spins);
    for (;;) {
      const count = v & COUNT;
      if (count > this.max) throw corrupted(this.where, v, this.max);
      if (count > 0) {
        const want = this.slept ? (count - 1) | SEMAPHORE_WAITERS : v - 1; // after a sleep, assume others sleep too
        const seen = Atomics.compareExchange(view, 0, v, want);
        if (seen === v) {
          took(view, this.futex, want);
          return STEP_TRUE;
        }
        v = seen;
        continue;
      }
      if (v !== SEMAPHORE_WAITERS) {
        const seen = Atomics.compareExchange(view, 0, v, SEMAPHORE_WAITERS); // announce: releases must wake
        if (seen !== v) {
          v = seen;
          continue;
        }
      }
      this.expected = SEMAPHORE_WAITERS; // sleep only while empty and marked
      return STEP_SLEEP;
    }
  }

  giveUp(): void {
    if (Atomics.load(this.view, 0) !== SEMAPHORE_WAITERS) this.futex.wakeOne(this.view, 0);
  }
}

/** Options for `new Semaphore(initial, ...)`. */
export interface SemaphoreOptions extends Placement, CommonOptions {
  /** The most permits the semaphore may hold (default and largest 2³¹−1); `release` beyond it throws. */
  max?: number;
}

/** A semaphore's handle also carries its `max`, so every attached instance enforces the same bound. */
export interface SemaphoreHandle extends WordHandle {
  /** The bound given at creation. */
  readonly max: number;
}

/**
 * A counting semaphore shared between workers.
 *
 * @example
 * ```ts
 * import { Semaphore } from "@futex/sync";
 * const slots = new Semaphore(3);          // 3 permits; post slots.handle, Semaphore.from(handle) in workers
 * if (slots.acquire(1000)) {
 *   try { console.log("one of 3 slots in use"); } finally { slots.release(); }
 * }
 * if (await slots.acquireAsync({ signal: AbortSignal.timeout(5000) })) slots.release();
 * ```
 */
export class Semaphore {
  readonly #view: Int32Array;
  readonly #futex: Futex;
  readonly #spins: number;
  readonly #max: number;
  readonly #record: WordRecord;
  /** Reused by blocking acquire(): a thread runs one blocking call at a time. */
  #wait: SemaphoreWait | undefined;
  /** Where the word lives (and the bound): post it to a worker and attach with {@link Semaphore.from}. */
  readonly handle: SemaphoreHandle;

  /**
   * Create a semaphore holding `initial` permits (a whole number from 0 to `max`), in its own
   * 4-byte SharedArrayBuffer or at `{ buffer, byteOffset }`.
   */
  constructor(initial: number, options?: SemaphoreOptions) {
    const attached = takeAttached(options) as (PrimitiveSetup & { max: number }) | undefined;
    let setup: PrimitiveSetup;
    let max: number;
    if (attached !== undefined) {
      setup = attached;
      max = attached.max;
    } else {
      const o = checkOptions<SemaphoreOptions>(options, `new ${KIND}`);
      max = o.max === undefined ? SEMAPHORE_MAX : checkCount(o.max, `new ${KIND}`, "max", 1, SEMAPHORE_MAX);
      checkCount(initial, `new ${KIND}`, "initial", 0, max);
      setup = createSetup(`new ${KIND}`, KIND, options, false, SEMAPHORE_DEFAULT_SPINS);
    }
    this.#view = setup.view;
    this.#futex = setup.futex;
    this.#spins = setup.spins;
    this.#record = setup.record;
    this.#max = max;
    this.handle = Object.freeze({ ...setup.handle, max });
    if (attached === undefined) {
      const v = Atomics.load(this.#view, 0);
      refuseLiveWord(`new ${KIND}`, KIND, setup, (v & SEMAPHORE_WAITERS) !== 0 ? "a semaphore with waiters" : undefined);
      Atomics.store(this.#view, 0, initial);
    }
  }

  /**
   * Attach to an existing semaphore (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { Semaphore } from "@futex/sync";
   * const s = new Semaphore(2);
   * const same = Semaphore.from(s.handle); // in a worker: Semaphore.from(workerData.semaphore)
   * same.tryAcquire(); // true
   * s.value; // 1
   * ```
   */
  static from(handle: SemaphoreHandle | WordHandle, options?: AttachOptions): Semaphore {
    const setup = attachSetup(`${KIND}.from`, KIND, handle, options, false, SEMAPHORE_DEFAULT_SPINS);
    const given = (handle as Partial<SemaphoreHandle>).max;
    const max = given === undefined ? SEMAPHORE_MAX : checkCount(given, `${KIND}.from`, "handle.max", 1, SEMAPHORE_MAX);
    const count = Atomics.load(setup.view, 0) & COUNT;
    if (count > max) {
      throw new TypeError(
        `${KIND}.from: the word at byteOffset ${setup.handle.byteOffset} holds ${count} permits, more than max ${max}; ` +
          "pass the .handle of a Semaphore",
      );
    }
    return new Semaphore(0, attachedOptions({ ...setup, max } as PrimitiveSetup));
  }

  /** Permits available right now (a snapshot). */
  get value(): number {
    return Atomics.load(this.#view, 0) & COUNT;
  }

  /** The most permits this semaphore may hold. */
  get max(): number {
    return this.#max;
  }

  /** Take a permit if one is available; never waits. */
  tryAcquire(): boolean {
    const view = this.#view;
    let v = Atomics.load(view, 0);
    while ((v & COUNT) > 0) {
      if ((v & COUNT) > this.#max) throw corrupted(`${KIND}.tryAcquire`, v, this.#max);
      const seen = Atomics.compareExchange(view, 0, v, v - 1); // keeps the WAITERS bit
      if (seen === v) {
        took(view, this.#futex, v - 1);
        return true;
      }
      v = seen;
    }
    return false;
  }

  /**
   * Block until a permit is taken (true) or `timeoutMs` passes (false; `acquire(0)` only polls).
   * Spins first only if `spin` was given (see {@link SEMAPHORE_DEFAULT_SPINS}). Throws
   * DeadlockError if this thread has a pending {@link acquireAsync} on the same semaphore.
   */
  acquire(timeoutMs?: number): boolean {
    const timeout = checkTimeout(timeoutMs, WHERE_ACQUIRE);
    if (this.tryAcquire()) return true;
    if (timeout === 0) return false;
    const w = this.#wait ??= new SemaphoreWait(this.#view, this.#futex, this.#max, WHERE_ACQUIRE);
    w.slept = false;
    w.spins = this.#spins;
    return runBlocking(w, this.#view, this.#futex, timeout, this.#record, true, WHERE_ACQUIRE);
  }

  /**
   * Take a permit without blocking the thread: resolves true when taken, false after `timeout`
   * ms; rejects with `signal.reason` on abort, having taken nothing. Never spins.
   */
  async acquireAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const { timeout, signal } = asyncOptions(`${KIND}.acquireAsync`, options);
    if (this.tryAcquire()) return true;
    if (timeout === 0) return false;
    const w = new SemaphoreWait(this.#view, this.#futex, this.#max, `${KIND}.acquireAsync`);
    return runAsync(w, this.#view, this.#futex, timeout, signal, this.#record, `${KIND}.acquireAsync`);
  }

  /**
   * Return `n` permits (default 1). Wakes sleepers only if the word says someone may sleep.
   * Throws RangeError, changing nothing, if the count would pass `max`.
   */
  release(n: number = 1): void {
    checkCount(n, WHERE_RELEASE, "n", 1, SEMAPHORE_MAX);
    const view = this.#view;
    let v = Atomics.load(view, 0);
    for (;;) {
      const count = v & COUNT;
      if (count > this.#max) throw corrupted(WHERE_RELEASE, v, this.#max);
      if (count + n > this.#max) {
        throw new RangeError(
          `${KIND}.release: ${count} + ${n} permits would pass max ${this.#max}; release only what was acquired`,
        );
      }
      const seen = Atomics.compareExchange(view, 0, v, count + n); // clears WAITERS
      if (seen === v) break;
      v = seen;
    }
    if (v < 0) { // WAITERS was set
      if (n === 1) this.#futex.wakeOne(view, 0);
      else this.#futex.wakeAll(view, 0);
    }
  }

  /**
   * Block until a permit is taken and return a guard that releases it when disposed (`using`).
   * Throws a "TimeoutError" DOMException if `timeoutMs` passes first.
   */
  guard(timeoutMs?: number): SemaphoreGuard {
    if (!this.acquire(timeoutMs)) throw permitTimeout(`${KIND}.guard`, timeoutMs);
    return new SemaphoreGuard(this);
  }

  /**
   * Take a permit without blocking the thread and resolve a guard that releases it when
   * disposed (`await using` or `using`). Rejects with a "TimeoutError" DOMException if
   * `timeout` passes first, or with `signal.reason` on abort, having taken nothing.
   *
   * @example
   * ```ts
   * import { Semaphore } from "@futex/sync";
   * const slots = new Semaphore(2);
   * {
   *   await using _permit = await slots.guardAsync({ timeout: 1000 });
   *   slots.value; // 1
   * } // released here
   * ```
   */
  async guardAsync(options?: AsyncWaitOptions): Promise<SemaphoreGuard> {
    if (!(await this.acquireAsync(options))) throw permitTimeout(`${KIND}.guardAsync`, options?.timeout);
    return new SemaphoreGuard(this);
  }

  /**
   * Run `fn` holding a permit (blocking acquire) and release it after — after the returned
   * promise settles if `fn` returns one (the Mutex's withLock).
   */
  withPermit<T>(fn: () => T): T {
    if (typeof fn !== "function") throw new TypeError(`${KIND}.withPermit: pass a function to run holding a permit`);
    this.acquire();
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.release();
      throw e;
    }
    if (result !== null && (typeof result === "object" || typeof result === "function") && typeof (result as unknown as PromiseLike<unknown>).then === "function") {
      return Promise.resolve(result).finally(() => this.release()) as T;
    }
    this.release();
    return result;
  }

  /**
   * Run `fn` holding a permit taken without blocking the thread (the Mutex's withLockAsync).
   * Rejects with a "TimeoutError" DOMException if `timeout` passes first, or with
   * `signal.reason` on abort; `fn` then does not run.
   */
  async withPermitAsync<T>(fn: () => T | PromiseLike<T>, options?: AsyncWaitOptions): Promise<T> {
    if (typeof fn !== "function") throw new TypeError(`${KIND}.withPermitAsync: pass a function to run holding a permit`);
    if (!(await this.acquireAsync(options))) throw permitTimeout(`${KIND}.withPermitAsync`, options?.timeout);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

function permitTimeout(where: string, ms: number | undefined): DOMException {
  return new DOMException(`${where}: no permit was acquired within ${ms} ms`, "TimeoutError");
}

/**
 * A permit returned by {@link Semaphore.guard} / {@link Semaphore.guardAsync}: released on
 * `[Symbol.dispose]` (`using`, `await using`) or `release()`.
 */
export class SemaphoreGuard implements Disposable {
  #semaphore: Semaphore | undefined;

  /** @internal Created once the permit is held. */
  constructor(semaphore: Semaphore) {
    this.#semaphore = semaphore;
  }

  /** Release the permit (once; later calls do nothing). */
  release(): void {
    const s = this.#semaphore;
    this.#semaphore = undefined;
    s?.release();
  }

  /** Same as {@link release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}
