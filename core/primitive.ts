/**
 * The setup every one-word primitive shares: pick and check the futex, the spin count and the
 * word (fresh, placed in a caller's buffer, or attached from a handle).
 *
 * @module
 */

import { DEFAULT_SPINS, type Futex, getDefaultFutex } from "./futex.ts";
import { checkFutex, checkOptions, checkSpins } from "./validate.ts";
import { attachWord, type PlacedWord, placeWord, type WordHandle } from "./word.ts";

/** Options every primitive accepts, whether created or attached. */
export interface CommonOptions {
  /** The futex that drives the word (default: the entry point's, the Atomics futex). */
  futex?: Futex;
  /** `Atomics.load` checks a blocking wait makes before sleeping (default {@link DEFAULT_SPINS}; 0 = never spin). */
  spin?: number;
}

/** What a primitive keeps: its word, its futex, its spin count. */
export interface PrimitiveSetup extends PlacedWord {
  readonly futex: Futex;
  readonly spins: number;
}

function common(where: string, options: CommonOptions): { futex: Futex; spins: number } {
  const futex = options.futex === undefined ? getDefaultFutex() : checkFutex(options.futex, where);
  const spins = options.spin === undefined ? DEFAULT_SPINS : checkSpins(options.spin, where);
  return { futex, spins };
}

/** Setup for a new primitive: `options` may carry `{ buffer, byteOffset }`. */
export function createSetup(where: string, kind: string, options: unknown): PrimitiveSetup {
  const o = checkOptions<CommonOptions & { buffer: unknown; byteOffset: unknown }>(options, where);
  const { futex, spins } = common(where, o);
  return { ...placeWord(where, kind, futex, o.buffer, o.byteOffset), futex, spins };
}

/** Setup for attaching to an existing word through its handle. */
export function attachSetup(where: string, kind: string, handle: unknown, options: unknown): PrimitiveSetup {
  const o = checkOptions<CommonOptions>(options, where);
  const { futex, spins } = common(where, o);
  return { ...attachWord(where, kind, futex, handle), futex, spins };
}

export type { WordHandle };
