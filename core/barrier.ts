/**
 * Barrier — a reusable (cyclic) barrier for a fixed number of parties, on two futex words: the
 * generation-counting barrier (Mellor-Crummey & Scott, "Algorithms for Scalable Synchronization
 * on Shared-Memory Multiprocessors", 1991, §3: the sense-reversing centralized barrier, with a
 * generation number in place of the sense bit), with Java's `CyclicBarrier` semantics for
 * failure: a party that gives up breaks the generation for everyone until `reset()`
 * (java.util.concurrent.CyclicBarrier, "broken" generations).
 *
 * The words (8 bytes: byteOffset and byteOffset + 4):
 *   count       arrivals of the current generation, 0 … parties − 1 (it never holds `parties`:
 *               the last arriver turns n − 1 into 0 in one CAS). Anything else: TypeError.
 *   generation  bits 0–30 the generation number (wraps); bit 31 BROKEN. Every value is a state.
 *
 * wait:   read the generation g FIRST (BROKEN → BrokenBarrierError, nothing changed), then CAS
 *         the count up. Reading the generation after the count would let the last arriver trip
 *         the barrier in between: the party would read g + 1 and sleep on a generation nobody
 *         trips without it — a lost wakeup (tests/models/barrier.pml rejects GEN_AFTER_COUNT).
 *   leader: the arrival that finds n − 1 CASes the count to 0 (ready for the next generation
 *         before anyone is released), then CASes the generation g → g + 1 and wakes all. The CAS
 *         fails only if the generation broke meanwhile: the leader gets BrokenBarrierError too.
 *   others: one step (core/contended.ts) driven by wait() and waitAsync(): sleep while the
 *         generation still equals g; g + 1 (BROKEN or not: a later generation may break after
 *         ours tripped) means released; anything else (g | BROKEN, or g + 2 by reset) means
 *         broken. With exactly `parties` parties, generation g + 1 cannot trip while a party of
 *         g has not returned, so "g + 1" is unambiguous.
 *   give-up (timeout, abort): CAS the generation g → g | BROKEN and wake all: every waiter of g
 *         and every later arrival throws BrokenBarrierError; the party that gave up gets its own
 *         error (TimeoutError / the signal's reason). If the CAS finds g + 1, the barrier tripped
 *         as it gave up: it returns as released. Wakes are broadcasts, so it passes nothing on.
 *   reset:  count 0, generation + 2 with BROKEN cleared, wake all (waiters of the old generation
 *         see g + 2: broken). Call it when no party is inside wait() (after a break, once every
 *         party has seen its error): a party between its generation read and its arrival could
 *         otherwise be counted into the new generation, as with Java's reset().
 *
 * @module
 */

import { ContendedWait, runAsync, runBlocking, STEP_SLEEP, STEP_TRUE } from "./contended.ts";
import { BrokenBarrierError } from "./errors.ts";
import type { Futex } from "./futex.ts";
import { spinWhileEqual } from "./spin.ts";
import {
  asyncOptions,
  type AsyncWaitOptions,
  attachedOptions,
  attachSetup,
  type AttachOptions,
  type CommonOptions,
  createSetup,
  type PrimitiveSetup,
  refuseLiveWord,
  takeAttached,
} from "./primitive.ts";
import { checkCount, checkOptions, checkTimeout } from "./validate.ts";
import { type Placement, placeWord, type WordHandle, type WordRecord } from "./word.ts";

/** Bit 31 of the generation word: the current generation is broken. */
export const BARRIER_BROKEN: number = 0x80000000 | 0;
/** Bits 0–30 of the generation word: the generation number. */
export const BARRIER_GENERATION_MASK = 0x7fffffff;
/** The most parties a Barrier can have. */
export const BARRIER_MAX_PARTIES = 0x7fffffff;

const GEN = BARRIER_GENERATION_MASK;
const KIND = "Barrier";

/** What a barrier wait returns: `isLeader` for exactly one party per generation (the last to arrive). */
export interface BarrierWaitResult {
  /** True for the party whose arrival tripped the barrier. */
  readonly isLeader: boolean;
}

const LEADER: BarrierWaitResult = Object.freeze({ isLeader: true });
const FOLLOWER: BarrierWaitResult = Object.freeze({ isLeader: false });

/** Options for `new Barrier(parties, ...)`: the 8 bytes at `{ buffer, byteOffset }`, or a fresh buffer. */
export interface BarrierOptions extends Placement, CommonOptions {}

/** A barrier's handle carries its party count, so every attached instance trips at the same arrival. */
export interface BarrierHandle extends WordHandle {
  /** The parties given at creation. */
  readonly parties: number;
}

/** Whether generation word `v` shows the generation after `g` (tripped), broken later or not. */
function tripped(g: number, v: number): boolean {
  return (((v & GEN) - g) & GEN) === 1;
}

function brokenError(where: string): BrokenBarrierError {
  return new BrokenBarrierError(
    `${where}: the barrier is broken (a party gave up — timed out or aborted — or reset() ran while parties waited); ` +
      "call reset() once every party has left, then start a new round",
  );
}

function corrupted(where: string, c: number, parties: number): TypeError {
  return new TypeError(
    `${where}: the barrier's count word holds ${c}, which is no count of arrivals (0 to ${parties - 1} for ${parties} parties); ` +
      "something else wrote to it, or the handle's parties differ from the barrier's — a word must hold one primitive at a time",
  );
}

function timeoutError(where: string, ms: number | undefined): DOMException {
  return new DOMException(`${where}: the other parties did not arrive within ${ms} ms; the barrier is now broken`, "TimeoutError");
}

/** The wait of a non-last party (wait() and waitAsync() alike): sleep while the generation is still g. */
class BarrierWait extends ContendedWait {
  /** The generation this party arrived in. */
  gen = 0;

  readonly view: Int32Array;
  readonly where: string;

  constructor(view: Int32Array, where: string) {
    super();
    this.view = view;
    this.where = where;
  }

  step(): number {
    const view = this.view;
    let v = Atomics.load(view, 0);
    if (v === this.gen && !this.slept && this.spins > 0) v = spinWhileEqual(view, 0, v, this.spins);
    if (v === this.gen) {
      this.expected = v;
      return STEP_SLEEP;
    }
    if (tripped(this.gen, v)) return STEP_TRUE;
    throw brokenError(this.where);
  }

  giveUp(): void {} // every wake is a broadcast: nothing to pass on (the caller breaks the barrier)
}

/**
 * A reusable barrier: `parties` workers call `wait()`; all return once the last arrives, and
 * exactly one of them — the last — gets `{ isLeader: true }`. A party that gives up breaks the
 * barrier (BrokenBarrierError for everyone) until `reset()`.
 *
 * @example
 * ```ts
 * import { Barrier } from "@futex/sync";
 * const b = new Barrier(1);   // post b.handle to workers; Barrier.from(handle) there
 * b.wait().isLeader;          // true: with one party every arrival trips it
 * await b.waitAsync({ timeout: 1000 }); // { isLeader: true }
 * ```
 */
export class Barrier {
  readonly #count: Int32Array;
  readonly #gen: Int32Array;
  readonly #futex: Futex;
  readonly #spins: number;
  readonly #parties: number;
  readonly #record: WordRecord;
  #wait: BarrierWait | undefined;
  /** Where the words live (and the party count): post it to a worker and attach with {@link Barrier.from}. */
  readonly handle: BarrierHandle;

  /**
   * Create a barrier for `parties` parties (a whole number ≥ 1) on 8 bytes: a fresh
   * SharedArrayBuffer, or `{ buffer, byteOffset }` (byteOffset a multiple of 4, 8 bytes in range).
   */
  constructor(parties: number, options?: BarrierOptions) {
    const attached = takeAttached(options) as (PrimitiveSetup & { parties: number; gen: Int32Array; genRecord: WordRecord }) | undefined;
    let setup: PrimitiveSetup;
    let gen: Int32Array;
    let record: WordRecord;
    if (attached !== undefined) {
      setup = attached;
      parties = attached.parties;
      gen = attached.gen;
      record = attached.genRecord;
    } else {
      const where = `new ${KIND}`;
      const o = checkOptions<BarrierOptions>(options, where);
      checkCount(parties, where, "parties", 1, BARRIER_MAX_PARTIES);
      const buffer = o.buffer ?? new SharedArrayBuffer(8);
      setup = createSetup(where, KIND, { ...o, buffer });
      const placed = placeGeneration(where, setup);
      gen = placed.view;
      record = placed.record;
      const c = Atomics.load(setup.view, 0);
      refuseLiveWord(where, KIND, setup, c > 0 && Atomics.load(gen, 0) >= 0 ? "a barrier with parties waiting" : undefined);
    }
    this.#count = setup.view;
    this.#gen = gen;
    this.#futex = setup.futex;
    this.#spins = setup.spins;
    this.#parties = parties;
    this.#record = record;
    this.handle = Object.freeze({ ...setup.handle, parties });
    if (attached === undefined) {
      Atomics.store(this.#count, 0, 0);
      Atomics.store(this.#gen, 0, 0);
    }
  }

  /**
   * Attach to an existing barrier (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { Barrier } from "@futex/sync";
   * const b = new Barrier(3);
   * const same = Barrier.from(b.handle); // in a worker: Barrier.from(workerData.barrier)
   * same.parties; // 3
   * ```
   */
  static from(handle: BarrierHandle, options?: AttachOptions): Barrier {
    const where = `${KIND}.from`;
    const setup = attachSetup(where, KIND, handle, options);
    const given = (handle as Partial<BarrierHandle>).parties;
    if (given === undefined) throw new TypeError(`${where}: the handle has no parties; pass the .handle of a Barrier`);
    const parties = checkCount(given, where, "handle.parties", 1, BARRIER_MAX_PARTIES);
    const placed = placeGeneration(where, setup);
    const c = Atomics.load(setup.view, 0);
    if (c < 0 || c >= parties) {
      throw new TypeError(
        `${where}: the word at byteOffset ${setup.handle.byteOffset} holds ${c}, which is no barrier count (0 to ${parties - 1}); ` +
          "pass the .handle of a Barrier",
      );
    }
    return new Barrier(parties, attachedOptions({ ...setup, parties, gen: placed.view, genRecord: placed.record } as PrimitiveSetup));
  }

  /** The number of parties that trip the barrier. */
  get parties(): number {
    return this.#parties;
  }

  /** Parties that have arrived in the current generation (a snapshot). */
  get waiting(): number {
    return Atomics.load(this.#count, 0);
  }

  /** The current generation number (a snapshot; wraps at 2³¹). */
  get generation(): number {
    return Atomics.load(this.#gen, 0) & GEN;
  }

  /** Whether the barrier is broken (a snapshot): waits throw BrokenBarrierError until reset(). */
  get isBroken(): boolean {
    return Atomics.load(this.#gen, 0) < 0;
  }

  /**
   * Arrive and block until all parties have arrived. Returns `{ isLeader }` (true for the last
   * to arrive). Throws BrokenBarrierError if the barrier is or becomes broken, and a
   * "TimeoutError" DOMException — breaking the barrier for the others — if `timeoutMs` passes
   * first. Spins briefly before sleeping.
   */
  wait(timeoutMs?: number): BarrierWaitResult {
    const where = `${KIND}.wait`;
    const timeout = checkTimeout(timeoutMs, where);
    const g = this.#arrive(where);
    if (g < 0) return LEADER;
    const w = this.#wait ??= new BarrierWait(this.#gen, where);
    w.gen = g;
    w.slept = false;
    w.spins = this.#spins;
    // Every wake is a broadcast: a pending waitAsync of this thread cannot take ours. Allowed.
    if (runBlocking(w, this.#gen, this.#futex, timeout, this.#record, false, where)) return FOLLOWER;
    return this.#leave(g, where, timeoutError(where, timeout));
  }

  /**
   * Arrive without blocking the thread: resolves `{ isLeader }` once all parties have arrived;
   * rejects with BrokenBarrierError if the barrier is or becomes broken, with a "TimeoutError"
   * DOMException after `timeout` ms, or with `signal.reason` on abort — a timeout or abort
   * breaks the barrier for the others. Never spins.
   */
  async waitAsync(options?: AsyncWaitOptions): Promise<BarrierWaitResult> {
    const where = `${KIND}.waitAsync`;
    const { timeout, signal } = asyncOptions(where, options);
    const g = this.#arrive(where);
    if (g < 0) return LEADER;
    const w = new BarrierWait(this.#gen, where);
    w.gen = g;
    let ok: boolean;
    try {
      ok = await runAsync(w, this.#gen, this.#futex, timeout, signal, this.#record, where);
    } catch (e) {
      if (signal?.aborted && e === signal.reason) return this.#leave(g, where, e);
      throw e;
    }
    if (ok) return FOLLOWER;
    return this.#leave(g, where, timeoutError(where, timeout));
  }

  /**
   * Start over: arrivals 0, the generation advanced by 2 with BROKEN cleared, every sleeper
   * woken (waiters of the old generation throw BrokenBarrierError). Call it when no party is
   * inside wait().
   */
  reset(): void {
    Atomics.store(this.#count, 0, 0);
    let g = Atomics.load(this.#gen, 0);
    for (;;) {
      const seen = Atomics.compareExchange(this.#gen, 0, g, ((g & GEN) + 2) & GEN);
      if (seen === g) break;
      g = seen;
    }
    this.#futex.wakeAll(this.#gen, 0);
  }

  /** Count this party in: its generation, or -1 if its arrival tripped the barrier (the leader). */
  #arrive(where: string): number {
    const g = Atomics.load(this.#gen, 0); // the generation FIRST, then the count (module comment)
    if (g < 0) throw brokenError(where);
    const n = this.#parties;
    let c = Atomics.load(this.#count, 0);
    for (;;) {
      if (c < 0 || c >= n) throw corrupted(where, c, n);
      const last = c === n - 1;
      const seen = Atomics.compareExchange(this.#count, 0, c, last ? 0 : c + 1);
      if (seen !== c) {
        c = seen;
        continue;
      }
      if (!last) return g;
      if (Atomics.compareExchange(this.#gen, 0, g, (g + 1) & GEN) !== g) throw brokenError(where);
      if (n > 1) this.#futex.wakeAll(this.#gen, 0);
      return -1;
    }
  }

  /** A waiter of generation g gives up: break g (and throw `error`), or find it tripped (released). */
  #leave(g: number, where: string, error: unknown): BarrierWaitResult {
    const seen = Atomics.compareExchange(this.#gen, 0, g, g | BARRIER_BROKEN);
    if (seen === g) {
      this.#futex.wakeAll(this.#gen, 0);
      throw error;
    }
    if (tripped(g, seen)) return FOLLOWER;
    throw brokenError(where);
  }
}

/** Place the generation word 4 bytes after the count word (same buffer, futex and checks). */
function placeGeneration(where: string, setup: PrimitiveSetup): { view: Int32Array; record: WordRecord } {
  const { buffer, byteOffset } = setup.handle;
  if (byteOffset + 8 > buffer.byteLength) {
    throw new RangeError(
      `${where}: byteOffset ${byteOffset} leaves ${buffer.byteLength - byteOffset} bytes in a ${buffer.byteLength}-byte buffer; ` +
        `a Barrier needs 8 (count and generation words): pass byteOffset ≤ ${buffer.byteLength - 8}`,
    );
  }
  const placed = placeWord(where, KIND, setup.futex, buffer, byteOffset + 4);
  return { view: placed.view, record: placed.record };
}
