/**
 * Placement of a primitive's 32-bit word: in a fresh 4-byte buffer, or at a byte offset inside a
 * caller's buffer (a struct in a SharedArrayBuffer, or mapped memory for a native futex). One
 * place checks kind, alignment and range; primitives receive an `Int32Array` of length 1.
 *
 * @module
 */

import type { Futex } from "./futex.ts";

/**
 * Where a primitive's word lives. Structured-clonable: post it to a worker and attach there with
 * the primitive's `from(handle)`.
 *
 * @example
 * ```ts
 * import { ManualResetEvent } from "@futex/sync";
 * const ev = new ManualResetEvent();
 * const { buffer, byteOffset, kind } = ev.handle; // kind: "ManualResetEvent"
 * ```
 */
export interface WordHandle {
  /** The memory holding the word. */
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  /** Byte offset of the word inside `buffer`: a multiple of 4. */
  readonly byteOffset: number;
  /** The primitive that owns the word; checked by `from()` when present. */
  readonly kind?: string;
}

/** Where to put a new primitive: omit both for a fresh 4-byte SharedArrayBuffer. */
export interface Placement {
  /** A SharedArrayBuffer (or, with a native futex, mapped memory) to hold the word. */
  buffer?: SharedArrayBuffer | ArrayBuffer;
  /** Byte offset of the word inside `buffer` (default 0): a multiple of 4, in range. */
  byteOffset?: number;
}

/**
 * What this thread knows about one word (shared by every instance this thread attached to it):
 * the futex family that drives it, which instance of this thread holds it (locks), and the
 * async waits of this thread pending on it. The per-thread deadlock rules read it.
 */
export interface WordRecord {
  /** The futex family driving the word in this thread ("Atomics", "process-private OS", …). */
  readonly family: string;
  /** The instance of this thread that holds the word's lock, if any (Mutex, LockCnt). */
  holder: object | undefined;
  /** Async waits of this thread pending on the word (their thread is this one). */
  asyncWaits: number;
  /** What the latest of them is, for error messages ("Mutex.lockAsync"). */
  asyncWhat: string;
}

/** A checked word: the one-element view the protocol drives, and the handle that names it. */
export interface PlacedWord {
  readonly view: Int32Array;
  readonly handle: WordHandle;
  /** This thread's record of the word. */
  readonly record: WordRecord;
}

function isSharedArrayBuffer(b: unknown): b is SharedArrayBuffer {
  return Object.prototype.toString.call(b) === "[object SharedArrayBuffer]";
}

function isArrayBuffer(b: unknown): b is ArrayBuffer {
  return Object.prototype.toString.call(b) === "[object ArrayBuffer]";
}

/** This thread's record of each word it has placed or attached: WeakMap(buffer → offset → record). */
const records = new WeakMap<object, Map<number, WordRecord>>();

function family(futex: Futex): string {
  if (futex.requiresSharedArrayBuffer) return "Atomics";
  return futex.crossProcess ? "cross-process OS" : "process-private OS";
}

/**
 * Refuse to drive one word with two futex families in this thread: `Atomics.notify` cannot wake
 * an OS futex waiter (nor the reverse), and a private OS wake cannot wake a shared OS waiter, so
 * mixing them loses wakeups. Other threads' choices are not visible here.
 */
function claimWord(where: string, buffer: object, offset: number, futex: Futex): WordRecord {
  let words = records.get(buffer);
  if (words === undefined) records.set(buffer, (words = new Map()));
  const had = words.get(offset);
  const fam = family(futex);
  if (had === undefined) {
    const record: WordRecord = { family: fam, holder: undefined, asyncWaits: 0, asyncWhat: "" };
    words.set(offset, record);
    return record;
  }
  if (had.family !== fam) {
    throw new TypeError(
      `${where}: the word at byteOffset ${offset} is already driven by the ${had.family} futex in this thread; ` +
        `a ${fam} futex (${futex.name}) cannot wake its sleepers (Atomics.notify and OS futex wakes never reach each other) — ` +
        "pass the same futex to every primitive on one word",
    );
  }
  return had;
}

/**
 * Check a placement against the futex that will drive it and return the word. Throws TypeError
 * for a wrong buffer kind and RangeError for a bad offset, with what to pass instead.
 */
export function placeWord(
  where: string,
  kind: string,
  futex: Futex,
  buffer: unknown,
  byteOffset: unknown,
): PlacedWord {
  if (buffer === undefined) {
    if (byteOffset !== undefined && byteOffset !== 0) {
      throw new RangeError(`${where}: byteOffset ${String(byteOffset)} given without a buffer; pass { buffer, byteOffset } together`);
    }
    buffer = new SharedArrayBuffer(4);
  }
  if (!isSharedArrayBuffer(buffer)) {
    if (isArrayBuffer(buffer) && futex.requiresSharedArrayBuffer) {
      throw new TypeError(
        `${where}: the ${futex.name} futex needs the word in a SharedArrayBuffer, got a non-shared ArrayBuffer; ` +
          "allocate it with new SharedArrayBuffer(n) (memory mapped through FFI needs a native futex)",
      );
    }
    if (!isArrayBuffer(buffer)) {
      const got = buffer === null ? "null" : typeof buffer === "object" ? (buffer.constructor?.name ?? "object") : typeof buffer;
      throw new TypeError(
        `${where}: buffer must be a SharedArrayBuffer (got ${got}); pass a SharedArrayBuffer, not a typed array or view — ` +
          "use { buffer: view.buffer, byteOffset: view.byteOffset } for a view",
      );
    }
  }
  const offset = byteOffset === undefined ? 0 : byteOffset;
  if (typeof offset !== "number") {
    throw new TypeError(`${where}: byteOffset must be a number (got ${typeof offset}); pass a multiple of 4`);
  }
  const length = (buffer as ArrayBuffer).byteLength;
  if (!Number.isInteger(offset) || offset < 0 || offset % 4 !== 0) {
    throw new RangeError(`${where}: byteOffset ${offset} must be a whole multiple of 4 ≥ 0 (a 32-bit word is 4-aligned)`);
  }
  if (offset + 4 > length) {
    throw new RangeError(
      `${where}: byteOffset ${offset} is out of range for a ${length}-byte buffer; the 4-byte word needs byteOffset ≤ ${length - 4}`,
    );
  }
  const record = claimWord(where, buffer as object, offset, futex);
  const view = new Int32Array(buffer as ArrayBuffer, offset, 1);
  return { view, handle: { buffer: buffer as SharedArrayBuffer | ArrayBuffer, byteOffset: offset, kind }, record };
}

/** Check a handle given to `from()`: an object naming a buffer and offset, of the right kind. */
export function attachWord(where: string, kind: string, futex: Futex, handle: unknown): PlacedWord {
  if (handle === null || typeof handle !== "object") {
    throw new TypeError(`${where}: handle must be an object { buffer, byteOffset } such as a ${kind}'s .handle (got ${handle === null ? "null" : typeof handle})`);
  }
  const h = handle as Partial<WordHandle>;
  if (h.kind !== undefined && h.kind !== kind) {
    throw new TypeError(`${where}: this handle belongs to a ${String(h.kind)}, not a ${kind}; attach it with ${String(h.kind)}.from()`);
  }
  if (h.buffer === undefined) {
    throw new TypeError(`${where}: handle has no buffer; pass a ${kind}'s .handle or { buffer, byteOffset }`);
  }
  return placeWord(where, kind, futex, h.buffer, h.byteOffset);
}
