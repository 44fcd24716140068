/**
 * Placement of a primitive's 32-bit word: in a fresh 4-byte buffer, or at a byte offset inside a
 * caller's buffer (a struct in a SharedArrayBuffer, or mapped memory for a native futex). One
 * place checks kind, alignment and range; primitives receive an `Int32Array` of length 1.
 *
 * @module
 */

import type { Futex } from "./futex.ts";

/** Names a shared region well enough for another thread or process to map it again. */
export interface RegionRef {
  /** The region's name, as given to `openSharedRegion` ("/my-app"). */
  readonly name: string;
  /** Its mapped length in bytes. */
  readonly byteLength: number;
  /** True for a sealed region (opened by path with `openSealedRegion`). */
  readonly sealed?: boolean;
}

/** A mapped region a primitive can be attached through: `from(handle, { region })`. */
export interface RegionLike extends RegionRef {
  /** This thread's live mapping of the region. */
  readonly buffer: ArrayBuffer;
  /** The region's cross-process futex. */
  readonly futex: Futex;
}

/**
 * Where a primitive's word lives, and what drives it. Structured-clonable: post it to a worker
 * and attach there with the primitive's `from(handle)`. A word in a SharedArrayBuffer arrives
 * shared; a word in a shared region arrives as a *copy* (postMessage copies mapped memory), so
 * its handle names the region and the receiver maps it again: `from(handle, { region })`.
 *
 * @example
 * ```ts
 * import { ManualResetEvent } from "@futex/sync";
 * const ev = new ManualResetEvent();
 * const { buffer, byteOffset, kind, domain } = ev.handle; // "ManualResetEvent", "atomics"
 * ```
 */
export interface WordHandle {
  /** The memory holding the word. */
  readonly buffer: SharedArrayBuffer | ArrayBuffer;
  /** Byte offset of the word inside `buffer`: a multiple of 4. */
  readonly byteOffset: number;
  /** The primitive that owns the word; checked by `from()` when present. */
  readonly kind?: string;
  /**
   * The futex domain that drives the word ("atomics", "os-private", "os-shared"); `from()`
   * refuses a futex of another domain, since its sleepers would never be woken.
   */
  readonly domain?: string;
  /** Set when the word lives in a shared region: the region to map again on the receiving side. */
  readonly region?: RegionRef;
  /**
   * True for a robust Mutex: 8 bytes (the word, then its owner's pid). `from()` attaches it as
   * robust and refuses `{ robust: false }`.
   */
  readonly robust?: boolean;
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
  /** The futex domain driving the word in this thread ("atomics", "os-private", …). */
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

/** This thread's records of words in shared regions, by region name (every mapping of it shares them). */
const regionRecords = new Map<string, Map<number, WordRecord>>();
/** How many live mappings of each region name this thread has. */
const mappingCounts = new Map<string, number>();

/** This thread's live mappings of shared regions (registered by the native layer when it maps one). */
const liveMappings = new WeakMap<object, RegionRef>();

/**
 * Record that `buffer` is this thread's live mapping of `region` (called by the native layer when
 * it maps a region). Only such ArrayBuffers can hold words: any other non-shared ArrayBuffer —
 * notably a region's buffer copied by postMessage — is private memory nobody else sees.
 */
export function registerMapping(buffer: ArrayBuffer, region: RegionRef): void {
  liveMappings.set(buffer, Object.freeze({ name: region.name, byteLength: region.byteLength, sealed: region.sealed === true }));
  mappingCounts.set(region.name, (mappingCounts.get(region.name) ?? 0) + 1);
}

/**
 * Record that one mapping of the region `name` was unmapped; with the last one, this thread's
 * records of its words go (a region created again under that name starts afresh).
 */
export function releaseMapping(name: string): void {
  const n = (mappingCounts.get(name) ?? 1) - 1;
  if (n > 0) mappingCounts.set(name, n);
  else {
    mappingCounts.delete(name);
    regionRecords.delete(name);
  }
}

/** The call that maps a region again, for error messages. */
function openCall(r: Partial<RegionRef>): string {
  return `${r.sealed === true ? "openSealedRegion" : "openSharedRegion"}(${JSON.stringify(r.name)}, ${String(r.byteLength)})`;
}

/** What a user should pass to get a futex of `domain`. */
function futexAdvice(domain: string): string {
  switch (domain) {
    case "atomics":
      return "omit { futex } (the Atomics futex is the default) or pass { futex: atomicsFutex }";
    case "os-private":
      return "pass { futex: nativeFutex() } (from @futex/sync/deno or @futex/sync/bun; each thread binds its own)";
    case "os-shared":
      return "attach through the region ({ region: openSharedRegion(name, byteLength) }) or pass { futex: nativeFutex({ crossProcess: true }) }";
    default:
      return `pass a futex whose domain is "${domain}"`;
  }
}

function describeFutex(domain: string): string {
  return domain === "atomics"
    ? "the Atomics futex"
    : domain === "os-private"
    ? "a process-private native futex"
    : domain === "os-shared"
    ? "a cross-process native futex"
    : `a futex of domain "${domain}"`;
}

/**
 * Refuse to drive one word with two futex families in this thread: `Atomics.notify` cannot wake
 * an OS futex waiter (nor the reverse), and a private OS wake cannot wake a shared OS waiter, so
 * mixing them loses wakeups. Other threads' choices are not visible here.
 */
function claimWord(where: string, buffer: object, offset: number, futex: Futex): WordRecord {
  // Two mappings of one region in this thread are two buffers over the same words: key by name.
  const region = liveMappings.get(buffer);
  let words = region === undefined ? records.get(buffer) : regionRecords.get(region.name);
  if (words === undefined) {
    words = new Map();
    if (region === undefined) records.set(buffer, words);
    else regionRecords.set(region.name, words);
  }
  const had = words.get(offset);
  const fam = futex.domain;
  if (had === undefined) {
    const record: WordRecord = { family: fam, holder: undefined, asyncWaits: 0, asyncWhat: "" };
    words.set(offset, record);
    return record;
  }
  if (had.family !== fam) {
    throw new TypeError(
      `${where}: the word at byteOffset ${offset} is already driven by ${describeFutex(had.family)} in this thread; ` +
        `${describeFutex(fam)} (${futex.name}) cannot wake its sleepers (Atomics.notify and OS futex wakes never reach each other) — ` +
        "pass the same futex to every primitive on one word",
    );
  }
  return had;
}

/**
 * Why this context has no SharedArrayBuffer, and how to get one: a browser defines it only in a
 * cross-origin isolated page (and that page's workers), which takes two response headers.
 */
function noSharedMemory(where: string): TypeError {
  return new TypeError(
    `${where}: SharedArrayBuffer is not available here. A browser provides it only to cross-origin isolated pages ` +
      "(self.crossOriginIsolated === true) and their workers: serve the page with the headers " +
      "Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp (or credentialless)",
  );
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
  robust = false,
): PlacedWord {
  const size = robust ? 8 : 4; // a robust word is followed by its owner's pid
  if (typeof SharedArrayBuffer === "undefined" && (buffer === undefined || futex.requiresSharedArrayBuffer)) {
    throw noSharedMemory(where);
  }
  if (buffer === undefined) {
    if (byteOffset !== undefined && byteOffset !== 0) {
      throw new RangeError(`${where}: byteOffset ${String(byteOffset)} given without a buffer; pass { buffer, byteOffset } together`);
    }
    buffer = new SharedArrayBuffer(size);
  }
  if (!isSharedArrayBuffer(buffer)) {
    if (isArrayBuffer(buffer) && futex.requiresSharedArrayBuffer) {
      throw new TypeError(
        `${where}: the ${futex.name} futex needs the word in a SharedArrayBuffer, got a non-shared ArrayBuffer; ` +
          "allocate it with new SharedArrayBuffer(n) (memory mapped through FFI needs a native futex)",
      );
    }
    if (isArrayBuffer(buffer) && !liveMappings.has(buffer)) {
      throw new TypeError(
        `${where}: this ArrayBuffer is not a live shared mapping in this thread, so a word in it would be private memory ` +
          "(a shared region's buffer that crossed postMessage is such a copy); open the region in this thread and " +
          `attach through it — ${kind}.from(handle, { region: openSharedRegion(name, byteLength) }) — or use a SharedArrayBuffer`,
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
  const mapping = liveMappings.get(buffer as object);
  if (mapping !== undefined && length === 0) {
    throw new TypeError(`${where}: the shared region ${JSON.stringify(mapping.name)} behind this buffer is closed; open it again`);
  }
  if (!Number.isInteger(offset) || offset < 0 || offset % 4 !== 0) {
    throw new RangeError(`${where}: byteOffset ${offset} must be a whole multiple of 4 ≥ 0 (a 32-bit word is 4-aligned)`);
  }
  if (offset + size > length) {
    throw new RangeError(
      `${where}: byteOffset ${offset} is out of range for a ${length}-byte buffer; the ${size}-byte ${robust ? "robust word (word + owner pid)" : "word"} ` +
        `needs byteOffset ≤ ${length - size}`,
    );
  }
  const record = claimWord(where, buffer as object, offset, futex);
  const view = new Int32Array(buffer as ArrayBuffer, offset, 1);
  const handle: WordHandle = mapping === undefined
    ? { buffer: buffer as SharedArrayBuffer, byteOffset: offset, kind, domain: futex.domain }
    : { buffer: buffer as ArrayBuffer, byteOffset: offset, kind, domain: futex.domain, region: mapping };
  if (robust) (handle as { robust?: boolean }).robust = true;
  return { view, handle, record };
}

/**
 * Check a handle given to `from()` — an object naming a buffer and offset, of the right kind,
 * driven by `futex`'s domain — and return the word. A handle that names a shared region is
 * attached through this thread's mapping of it (`region`); its buffer, a postMessage copy, never.
 */
export function attachWord(
  where: string,
  kind: string,
  futex: Futex,
  handle: unknown,
  region?: RegionLike,
  robust = false,
): PlacedWord {
  if (handle === null || typeof handle !== "object") {
    throw new TypeError(`${where}: handle must be an object { buffer, byteOffset } such as a ${kind}'s .handle (got ${handle === null ? "null" : typeof handle})`);
  }
  const h = handle as Partial<WordHandle>;
  if (h.kind !== undefined && h.kind !== kind) {
    throw new TypeError(`${where}: this handle belongs to a ${String(h.kind)}, not a ${kind}; attach it with ${String(h.kind)}.from()`);
  }
  const named = h.region as Partial<RegionRef> | undefined;
  let buffer: unknown = h.buffer;
  if (region !== undefined) {
    if (named !== undefined && named.name !== region.name) {
      throw new TypeError(
        `${where}: this handle's word lives in the shared region ${JSON.stringify(named.name)}, not in ${JSON.stringify(region.name)}; ` +
          `pass { region: ${openCall(named)} }`,
      );
    }
    buffer = region.buffer;
  } else if (named !== undefined && !(typeof buffer === "object" && buffer !== null && liveMappings.has(buffer))) {
    throw new TypeError(
      `${where}: this handle's word lives in the shared region ${JSON.stringify(named.name)}, and the buffer it carries here ` +
        "is a private copy (postMessage copies mapped memory), so a primitive over it would share nothing; map the region in " +
        `this thread and attach through it: ${kind}.from(handle, { region: ${openCall(named)} })`,
    );
  }
  if (h.domain !== undefined && h.domain !== futex.domain) {
    throw new TypeError(
      `${where}: this handle's word is driven by ${describeFutex(String(h.domain))}, and ${describeFutex(futex.domain)} ` +
        `(${futex.name}) would sleep where those wakes never arrive; ${futexAdvice(String(h.domain))}`,
    );
  }
  if (buffer === undefined) {
    throw new TypeError(`${where}: handle has no buffer; pass a ${kind}'s .handle or { buffer, byteOffset }`);
  }
  if (h.robust !== undefined && h.robust !== robust) {
    throw new TypeError(
      `${where}: this handle's word is ${h.robust ? "a robust" : "a plain (non-robust)"} ${kind}, and attaching it as ` +
        `${robust ? "robust" : "plain"} would misread it; omit { robust } to follow the handle`,
    );
  }
  return placeWord(where, kind, futex, buffer, h.byteOffset, robust);
}
