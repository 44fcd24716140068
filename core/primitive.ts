/**
 * The setup every one-word primitive shares: pick and check the futex, the spin count and the
 * word (fresh, placed in a caller's buffer, or attached from a handle).
 *
 * @module
 */

import { type Futex, getDefaultFutex } from "./futex.ts";
import { DEFAULT_SPINS } from "./spin.ts";
import { checkFutex, checkOptions, checkSignal, checkSpins, checkTimeout } from "./validate.ts";
import { attachWord, type PlacedWord, placeWord, type RegionLike, type WordHandle } from "./word.ts";

/** Options every primitive accepts, whether created or attached. */
export interface CommonOptions {
  /** The futex that drives the word (default: the entry point's, the Atomics futex). */
  futex?: Futex;
  /** Pause units a blocking wait may spin before sleeping (default {@link DEFAULT_SPINS}; 0 = never spin; core/spin.ts). */
  spin?: number;
}

/** Options of `from(handle, options)`: the common ones, and the region to attach through. */
export interface AttachOptions extends CommonOptions {
  /**
   * This thread's mapping of the shared region the handle names (`openSharedRegion(name,
   * byteLength)`): the word is attached in it, driven by its futex unless `futex` is given.
   * Required for a handle whose `region` is set, since the buffer it carries is a copy.
   */
  region?: RegionLike;
}

/** What a primitive keeps: its word, its futex, its spin count. */
export interface PrimitiveSetup extends PlacedWord {
  readonly futex: Futex;
  readonly spins: number;
}

function common(where: string, options: CommonOptions, defaultSpins: number): { futex: Futex; spins: number } {
  const futex = options.futex === undefined ? getDefaultFutex() : checkFutex(options.futex, where);
  const spins = options.spin === undefined ? defaultSpins : checkSpins(options.spin, where);
  return { futex, spins };
}

/**
 * Setup for a new primitive: `options` may carry `{ buffer, byteOffset }`. `defaultSpins`: the
 * spin when the caller gives none (DEFAULT_SPINS; the Semaphore's is 0).
 */
export function createSetup(where: string, kind: string, options: unknown, robust = false, defaultSpins = DEFAULT_SPINS): PrimitiveSetup {
  const o = checkOptions<CommonOptions & { buffer: unknown; byteOffset: unknown }>(options, where);
  const { futex, spins } = common(where, o, defaultSpins);
  return { ...placeWord(where, kind, futex, o.buffer, o.byteOffset, robust), futex, spins };
}

const ATTACH: unique symbol = Symbol("attach");

/**
 * Options that carry an already-attached setup into a constructor, so `from()` can build an
 * instance without re-initialising the word. The symbol is module-private: users cannot forge it.
 */
export function attachedOptions<T>(setup: PrimitiveSetup): T {
  return { [ATTACH]: setup } as T;
}

/** The setup carried by {@link attachedOptions}, if any. */
export function takeAttached(options: unknown): PrimitiveSetup | undefined {
  return (options as { [ATTACH]?: PrimitiveSetup } | undefined)?.[ATTACH];
}

/**
 * Setup for `from(handle)`: attach, then refuse a word that holds no state of this primitive
 * (a foreign handle, or memory something else wrote) with a TypeError that lists the states.
 */
export function attachChecked(
  kind: string,
  handle: unknown,
  options: unknown,
  isState: (word: number) => boolean,
  noun: string,
  states: string,
  robust = false,
): PrimitiveSetup {
  const setup = attachSetup(`${kind}.from`, kind, handle, options, robust);
  const v = Atomics.load(setup.view, 0);
  if (!isState(v)) {
    throw new TypeError(
      `${kind}.from: the word at byteOffset ${setup.handle.byteOffset} holds ${v}, which is no ${noun} state ` +
        `(${states}); pass the .handle of a ${kind}`,
    );
  }
  return setup;
}

function checkRegion(region: unknown, where: string): RegionLike | undefined {
  if (region === undefined) return undefined;
  const r = region as RegionLike;
  if (r === null || typeof r !== "object" || typeof r.name !== "string" || typeof r.byteLength !== "number" || typeof r.futex !== "object") {
    throw new TypeError(`${where}: region must be a shared region from openSharedRegion(name, byteLength) (an object with name, byteLength, buffer and futex)`);
  }
  return r;
}

/** Setup for attaching to an existing word through its handle (and, for a region's word, the region). */
export function attachSetup(
  where: string,
  kind: string,
  handle: unknown,
  options: unknown,
  robust = false,
  defaultSpins = DEFAULT_SPINS,
): PrimitiveSetup {
  const o = checkOptions<AttachOptions>(options, where);
  const region = checkRegion(o.region, where);
  const { futex, spins } = common(where, region !== undefined && o.futex === undefined ? { ...o, futex: region.futex } : o, defaultSpins);
  return { ...attachWord(where, kind, futex, handle, region, robust), futex, spins };
}

/**
 * Refuse to initialise a word whose value shows someone is using it (`live` names that state, or
 * is undefined when the value is no sign of use). Re-initialising would free a lock under its
 * holder or strand sleepers. States that look like a fresh word (an unlocked mutex, an event not
 * set, a semaphore's count) cannot be told from another thread's state and are overwritten.
 */
export function refuseLiveWord(where: string, kind: string, setup: PlacedWord, live: string | undefined): void {
  if (live === undefined) return;
  const v = Atomics.load(setup.view, 0);
  throw new TypeError(
    `${where}: the word at byteOffset ${setup.handle.byteOffset} holds ${v} (${live}), so another thread or process is using it ` +
      `and re-initialising it would break them; attach with ${kind}.from(handle) instead — or, if the memory is stale, ` +
      "zero the word first (Atomics.store(new Int32Array(buffer, byteOffset, 1), 0, 0))",
  );
}

/** Options for async waits (`waitAsync`, `lockAsync`, `acquireAsync`). */
export interface AsyncWaitOptions {
  /** Give up after this many milliseconds (whole number ≥ 0); the promise then resolves false. */
  timeout?: number;
  /** Abort the wait; the promise rejects with `signal.reason` and nothing is left acquired. */
  signal?: AbortSignal;
}

/** Check async options; throws the signal's reason if it is already aborted. */
export function asyncOptions(where: string, options: unknown): { timeout: number | undefined; signal: AbortSignal | undefined } {
  const o = checkOptions<AsyncWaitOptions>(options, where);
  const timeout = checkTimeout(o.timeout, where);
  const signal = checkSignal(o.signal, where);
  if (signal?.aborted) throw signal.reason;
  return { timeout, signal };
}

export type { WordHandle };
