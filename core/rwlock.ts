/**
 * RwLock — a readers-writer lock on two futex words, writer-preferring. The design and the word
 * encoding are Rust std's futex rwlock (library/std/src/sys/sync/rwlock/futex.rs), without its
 * `downgrade`.
 *
 * Word 0, the state (at `handle.byteOffset`):
 *   bits 0–29  0 unlocked; 1 … 0x3FFF_FFFE held by that many readers (RW_MAX_READERS);
 *              0x3FFF_FFFF (RW_MASK) write-locked (RW_WRITE_LOCKED)
 *   bit 30     RW_READERS_WAITING: readers may sleep on the state word
 *   bit 31     RW_WRITERS_WAITING: writers may sleep on the notify word (read through an
 *              Int32Array, a word with this bit is negative)
 * Word 1, the writer notify (at `handle.byteOffset + 4`): a sequence (any 32-bit value, wrapping)
 * incremented before every wake of a writer — the writers' condition variable.
 * Every 32-bit value of either word decodes to a state; a word something else wrote shows up at
 * an unlock that finds no lock of its kind in it: TypeError naming the value, the word left as
 * it is.
 *
 * read (fast): if read-lockable — fewer than MAX readers, no writer, and neither waiting bit —
 *   CAS s→s+1. Writer preference: while WRITERS_WAITING is set, new readers do not enter.
 * read (step, one loop for readLock() and readLockAsync()): spin (blocking only) until the lock
 *   is not write-locked or a waiting bit is set; if read-lockable, CAS s→s+1; else CAS in
 *   READERS_WAITING and sleep on the state word while it is exactly s|READERS_WAITING.
 * write (fast): CAS 0→WRITE_LOCKED.
 * write (step, one loop for writeLock() and writeLockAsync()): spin (blocking only) until
 *   unlocked or WRITERS_WAITING; if unlocked (count 0), CAS s→s|WRITE_LOCKED, keeping the bits,
 *   and adding WRITERS_WAITING once this call has marked it (other writers may still sleep); else
 *   CAS in WRITERS_WAITING, then read the notify sequence and only then re-read the state: if it
 *   is unlocked or the mark is gone, loop; otherwise sleep on the notify word while it equals
 *   the sequence read. Reading the sequence before the last state check is what makes a wake
 *   between the check and the sleep impossible to miss.
 * read unlock: CAS s→s−1; the last reader out with WRITERS_WAITING set wakes (below).
 * write unlock: CAS s→s−WRITE_LOCKED; if a waiting bit is left, wake (below).
 * wake (the lock is free, s is its word): only writers waiting → CAS WW→0, notify+1, wake one
 *   writer. Both waiting → CAS to READERS_WAITING, notify+1, wake one writer, and — because the
 *   Futex contract does not say whether a sleeper was woken (Rust on FreeBSD has the same
 *   limit) — go on to the readers: CAS READERS_WAITING→0 and wake all readers. Only readers
 *   waiting → CAS READERS_WAITING→0, wake all. A failed CAS means the lock was taken again: its
 *   unlock will wake.
 * give-up (timeout, abort) after sleeping: readers are woken all at once, so a reader passes
 *   nothing on. A writer may have consumed the one wake a writer got: unless the state is held
 *   with WRITERS_WAITING set (its holder's unlock wakes a writer), it does notify+1 and wakes one.
 *
 * Per thread (core/word.ts records): the write lock has a holder instance; read locks are
 * counted per thread and word. A blocking call that could only end by this thread's own unlock
 * — writeLock while this thread holds a read or the write lock, readLock while it holds the
 * write lock, or a readLock that must sleep while it holds a read lock (writers waiting) — is
 * DeadlockError. A blocking writeLock beside this thread's pending writeLockAsync is refused as
 * the Mutex's lock is (the one wake could go to the async waiter).
 *
 * @module
 */

import { ContendedWait, runAsync, runBlocking, STEP_SLEEP, STEP_TRUE } from "./contended.ts";
import { DeadlockError, NotHeldError } from "./errors.ts";
import type { Futex } from "./futex.ts";
import { spinUntil } from "./spin.ts";
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
import { checkOptions, checkTimeout } from "./validate.ts";
import { type Placement, placeWord, type WordHandle, type WordRecord } from "./word.ts";

/** One reader's share of the state word. */
export const RW_READ_LOCKED = 1;
/** Bits 0–29 of the state word: the reader count, or RW_WRITE_LOCKED. */
export const RW_MASK: number = (1 << 30) - 1;
/** Bits 0–29 all set: held by a writer. */
export const RW_WRITE_LOCKED: number = RW_MASK;
/** The most readers the state word can count. */
export const RW_MAX_READERS: number = RW_MASK - 1;
/** Bit 30: readers may sleep on the state word. */
export const RW_READERS_WAITING: number = 1 << 30;
/** Bit 31: writers may sleep on the notify word (negative through an Int32Array). */
export const RW_WRITERS_WAITING: number = (1 << 31) | 0;

const WAITING = RW_READERS_WAITING | RW_WRITERS_WAITING;
const KIND = "RwLock";

const isUnlocked = (s: number): boolean => (s & RW_MASK) === 0;
const isWriteLocked = (s: number): boolean => (s & RW_MASK) === RW_WRITE_LOCKED;
const isReadLockable = (s: number): boolean => (s & RW_MASK) < RW_MAX_READERS && (s & WAITING) === 0;

/** The record's holder while this thread holds read locks on the word (their count is in readHolds). */
const READ_HOLD: object = Object.freeze({ kind: "RwLock read locks" });
/** This thread's read locks per word: one counter object per word record, shared by its instances. */
const readHolds = new WeakMap<WordRecord, { n: number }>();

function describe(s: number): string {
  const c = s & RW_MASK;
  const what = c === 0 ? "unlocked" : c === RW_WRITE_LOCKED ? "write-locked" : `${c} reader${c === 1 ? "" : "s"}`;
  const bits = [(s & RW_READERS_WAITING) !== 0 ? "readers waiting" : "", (s & RW_WRITERS_WAITING) !== 0 ? "writers waiting" : ""].filter(Boolean);
  return `${s} (0x${(s >>> 0).toString(16)}: ${[what, ...bits].join(", ")})`;
}

function foreign(where: string, s: number, wanted: string): TypeError {
  return new TypeError(
    `${where}: the state word holds ${describe(s)}, which has ${wanted}, though this thread holds one; ` +
      "something else wrote to it — a word must hold one primitive at a time (the word is left as it is)",
  );
}

const readSpinDone = (s: number): boolean => !isWriteLocked(s) || (s & WAITING) !== 0;
const writeSpinDone = (s: number): boolean => isUnlocked(s) || (s & RW_WRITERS_WAITING) !== 0;

/** The two words and the futex that drives them; the wake logic both unlocks and give-ups share. */
class Words {
  readonly state: Int32Array;
  readonly notify: Int32Array;
  readonly futex: Futex;

  constructor(state: Int32Array, notify: Int32Array, futex: Futex) {
    this.state = state;
    this.notify = notify;
    this.futex = futex;
  }

  wakeWriter(): void {
    Atomics.add(this.notify, 0, 1); // before the wake: a writer that read the old sequence does not sleep
    this.futex.wakeOne(this.notify, 0);
  }

  /** The lock is free and `s` (its state) has a waiting bit: wake a writer, else readers. */
  wakeWriterOrReaders(s: number): void {
    if (s === RW_WRITERS_WAITING) {
      const seen = Atomics.compareExchange(this.state, 0, s, 0);
      if (seen === s) {
        this.wakeWriter();
        return;
      }
      s = seen; // readers may be waiting now too
    }
    if (s === WAITING) {
      if (Atomics.compareExchange(this.state, 0, s, RW_READERS_WAITING) !== s) return; // taken again: its unlock wakes
      this.wakeWriter();
      s = RW_READERS_WAITING; // we cannot know a writer was asleep to take the wake: wake the readers too
    }
    if (s === RW_READERS_WAITING && Atomics.compareExchange(this.state, 0, s, 0) === s) {
      this.futex.wakeAll(this.state, 0);
    }
  }
}

/** The contended read loop (readLock() and readLockAsync() alike); sleeps on the state word. */
class ReadWait extends ContendedWait {
  readonly words: Words;
  readonly where: string;

  constructor(words: Words, where: string) {
    super();
    this.words = words;
    this.where = where;
  }

  step(): number {
    const view = this.words.state;
    let s = this.spins > 0 ? spinUntil(view, 0, this.spins, readSpinDone) : Atomics.load(view, 0);
    for (;;) {
      if (isReadLockable(s)) {
        const seen = Atomics.compareExchange(view, 0, s, s + RW_READ_LOCKED);
        if (seen === s) return STEP_TRUE;
        s = seen;
        continue;
      }
      if ((s & RW_MASK) === RW_MAX_READERS) {
        throw new RangeError(`${this.where}: ${RW_MAX_READERS} read locks are held, the most the state word can count`);
      }
      if ((s & RW_READERS_WAITING) === 0) {
        const seen = Atomics.compareExchange(view, 0, s, s | RW_READERS_WAITING);
        if (seen !== s) {
          s = seen;
          continue;
        }
      }
      this.expected = s | RW_READERS_WAITING;
      return STEP_SLEEP;
    }
  }

  giveUp(): void {
    // Readers are only ever woken all together: a reader that leaves took no one else's wake.
  }
}

/** The contended write loop (writeLock() and writeLockAsync() alike); sleeps on the notify word. */
class WriteWait extends ContendedWait {
  /** RW_WRITERS_WAITING once this call has marked it: kept when it takes the lock. */
  others = 0;

  readonly words: Words;
  readonly where: string;

  constructor(words: Words, where: string) {
    super();
    this.words = words;
    this.where = where;
  }

  step(): number {
    const view = this.words.state;
    let s = this.spins > 0 ? spinUntil(view, 0, this.spins, writeSpinDone) : Atomics.load(view, 0);
    for (;;) {
      if (isUnlocked(s)) {
        const seen = Atomics.compareExchange(view, 0, s, s | RW_WRITE_LOCKED | this.others);
        if (seen === s) return STEP_TRUE;
        s = seen;
        continue;
      }
      if ((s & RW_WRITERS_WAITING) === 0) {
        const seen = Atomics.compareExchange(view, 0, s, s | RW_WRITERS_WAITING);
        if (seen !== s) {
          s = seen;
          continue;
        }
      }
      this.others = RW_WRITERS_WAITING;
      const seq = Atomics.load(this.words.notify, 0); // before the last look at the state
      s = Atomics.load(view, 0);
      if (isUnlocked(s) || (s & RW_WRITERS_WAITING) === 0) continue;
      this.expected = seq;
      return STEP_SLEEP;
    }
  }

  giveUp(): void {
    const s = Atomics.load(this.words.state, 0);
    if (isUnlocked(s) || (s & RW_WRITERS_WAITING) === 0) this.words.wakeWriter();
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") &&
    typeof (v as PromiseLike<unknown>).then === "function";
}

function timeoutError(where: string, ms: number | undefined): DOMException {
  return new DOMException(`${where}: the lock was not acquired within ${ms} ms`, "TimeoutError");
}

/**
 * A held read or write lock returned by {@link RwLock.read}, {@link RwLock.write} and their async
 * forms: releases on `[Symbol.dispose]` (`using`), `[Symbol.asyncDispose]` (`await using`) or
 * `release()`.
 *
 * @example
 * ```ts
 * import { RwLock } from "@futex/sync";
 * const rw = new RwLock();
 * {
 *   using _r = rw.read();
 *   // read the shared data
 * } // read lock released here
 * ```
 */
export class RwLockGuard implements Disposable, AsyncDisposable {
  #release: (() => void) | undefined;

  /** @internal Created by RwLock once the lock is held. */
  constructor(release: () => void) {
    this.#release = release;
  }

  /** Release the lock (once; later calls do nothing). */
  release(): void {
    const r = this.#release;
    this.#release = undefined;
    r?.();
  }

  /** Same as {@link release}, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }

  /** Same as {@link release}, for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

/** Options for `new RwLock(...)`: `{ buffer, byteOffset }` must leave 8 bytes (two words). */
export interface RwLockOptions extends Placement, CommonOptions {}

/** RangeError if `byteOffset` leaves room for one word but not for the lock's two. */
function checkRoom(where: string, buffer: unknown, byteOffset: unknown): void {
  const len = (buffer as { byteLength?: unknown } | null | undefined)?.byteLength;
  const off = byteOffset ?? 0;
  if (
    typeof off === "number" && Number.isInteger(off) && off >= 0 && off % 4 === 0 &&
    typeof len === "number" && off + 4 <= len && off + 8 > len
  ) {
    throw new RangeError(
      `${where}: byteOffset ${off} leaves ${len - off} bytes of a ${len}-byte buffer; an RwLock is two words ` +
        `(state, writer notify), 8 bytes, so byteOffset must be ≤ ${len - 8}`,
    );
  }
}

/**
 * A readers-writer lock shared between workers: many readers or one writer; writers go first
 * (while a writer waits, new readers wait too).
 *
 * @example
 * ```ts
 * import { RwLock } from "@futex/sync";
 * const rw = new RwLock();                     // post rw.handle to workers; RwLock.from(handle) there
 * const data = new Int32Array(new SharedArrayBuffer(8));
 * rw.withWrite(() => { data[0] = 1; data[1] = 1; });
 * const sum = rw.withRead(() => data[0] + data[1]); // 2
 * await rw.withReadAsync(async () => data[0]);
 * ```
 */
export class RwLock {
  readonly #words: Words;
  readonly #spins: number;
  /** The state word's record: the write holder, and this thread's read locks (readHolds). */
  readonly #record: WordRecord;
  /** The notify word's record: this thread's pending async writers. */
  readonly #notifyRecord: WordRecord;
  /** This thread's read locks on the word (shared by every instance of this thread on it). */
  readonly #reads: { n: number };
  #readWait: ReadWait | undefined;
  #writeWait: WriteWait | undefined;
  /** Where the words live (the state at `byteOffset`, the notify word after it): attach with {@link RwLock.from}. */
  readonly handle: WordHandle;

  /**
   * Create an unlocked lock in its own 8-byte SharedArrayBuffer or at `{ buffer, byteOffset }`
   * (two words: `byteOffset` and `byteOffset + 4`).
   */
  constructor(options?: RwLockOptions) {
    const attached = takeAttached(options) as (PrimitiveSetup & { notify: PrimitiveSetup }) | undefined;
    let setup: PrimitiveSetup;
    let notify: PrimitiveSetup;
    if (attached !== undefined) {
      setup = attached;
      notify = attached.notify;
    } else {
      const where = `new ${KIND}`;
      const o = checkOptions<RwLockOptions>(options, where);
      const placed = o.buffer === undefined && (o.byteOffset === undefined || o.byteOffset === 0)
        ? { ...o, buffer: new SharedArrayBuffer(8), byteOffset: 0 }
        : o;
      checkRoom(where, placed.buffer, placed.byteOffset);
      setup = createSetup(where, KIND, placed);
      notify = { ...placeWord(where, KIND, setup.futex, setup.handle.buffer, setup.handle.byteOffset + 4), futex: setup.futex, spins: setup.spins };
    }
    this.#words = new Words(setup.view, notify.view, setup.futex);
    this.#spins = setup.spins;
    this.#record = setup.record;
    this.#notifyRecord = notify.record;
    let reads = readHolds.get(setup.record);
    if (reads === undefined) readHolds.set(setup.record, reads = { n: 0 });
    this.#reads = reads;
    this.handle = Object.freeze(setup.handle);
    if (attached === undefined) {
      if (this.#record.holder !== undefined) {
        throw new DeadlockError(`new ${KIND}: this thread holds a lock on that word; re-initialising it would free it under the holder`);
      }
      const s = Atomics.load(setup.view, 0);
      refuseLiveWord(`new ${KIND}`, KIND, setup, s !== 0 ? describe(s) : undefined);
      Atomics.store(notify.view, 0, 0);
    }
  }

  /**
   * Attach to an existing lock (for example in a worker) without re-initialising it.
   *
   * @example
   * ```ts
   * import { RwLock } from "@futex/sync";
   * const rw = new RwLock();
   * const same = RwLock.from(rw.handle); // in a worker: RwLock.from(workerData.rwlock)
   * same.tryRead(); // true
   * rw.readers; // 1
   * ```
   */
  static from(handle: WordHandle, options?: AttachOptions): RwLock {
    const where = `${KIND}.from`;
    const setup = attachSetup(where, KIND, handle, options);
    checkRoom(where, setup.handle.buffer, setup.handle.byteOffset);
    const n = placeWord(where, KIND, setup.futex, setup.handle.buffer, setup.handle.byteOffset + 4);
    return new RwLock(attachedOptions({ ...setup, notify: { ...n, futex: setup.futex, spins: setup.spins } } as PrimitiveSetup));
  }

  /** Readers holding the lock right now (0 when unlocked or write-locked; a snapshot). */
  get readers(): number {
    const c = Atomics.load(this.#words.state, 0) & RW_MASK;
    return c === RW_WRITE_LOCKED ? 0 : c;
  }

  /** Whether a writer holds the lock right now (a snapshot). */
  get isWriteLocked(): boolean {
    return isWriteLocked(Atomics.load(this.#words.state, 0));
  }

  /** Whether this instance holds the write lock. */
  get writeHeld(): boolean {
    return this.#record.holder === this;
  }

  /** Whether this thread holds a read lock on this lock's word (through any instance). */
  get readHeld(): boolean {
    return this.#reads.n > 0;
  }

  #gotRead(): void {
    this.#reads.n++;
    this.#record.holder = READ_HOLD;
  }

  /** Take a read lock if no writer holds or waits for it; never waits. */
  tryRead(): boolean {
    const view = this.#words.state;
    let s = Atomics.load(view, 0);
    while (isReadLockable(s)) {
      const seen = Atomics.compareExchange(view, 0, s, s + RW_READ_LOCKED);
      if (seen === s) {
        this.#gotRead();
        return true;
      }
      s = seen;
    }
    return false;
  }

  /** Take the write lock if nobody holds it; never waits (waiting bits are kept). */
  tryWrite(): boolean {
    const view = this.#words.state;
    let s = Atomics.load(view, 0);
    while (isUnlocked(s)) {
      const seen = Atomics.compareExchange(view, 0, s, s | RW_WRITE_LOCKED);
      if (seen === s) {
        this.#record.holder = this;
        return true;
      }
      s = seen;
    }
    return false;
  }

  /**
   * Block until a read lock is taken (true) or `timeoutMs` passes (false; `readLock(0)` only
   * polls). Waits while a writer holds the lock or waits for it. Throws DeadlockError if this
   * thread holds the write lock, or holds a read lock and would have to sleep (a writer waits
   * for that read lock).
   */
  readLock(timeoutMs?: number): boolean {
    const where = `${KIND}.readLock`;
    const timeout = checkTimeout(timeoutMs, where);
    if (this.tryRead()) return true;
    if (timeout === 0) return false;
    if (this.#record.holder !== undefined && this.#record.holder !== READ_HOLD) {
      throw new DeadlockError(`${where}: this thread holds the write lock, so a read lock would never come; writeUnlock() first`);
    }
    const w = this.#readWait ??= new ReadWait(this.#words, where);
    w.slept = false;
    w.spins = this.#spins;
    const ok = runBlocking(w, this.#words.state, this.#words.futex, timeout, this.#record, false, where);
    if (ok) this.#gotRead();
    return ok;
  }

  /**
   * Take a read lock without blocking the thread: resolves true when held, false after `timeout`
   * ms; rejects with `signal.reason` on abort, holding nothing. Never spins.
   */
  async readLockAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const where = `${KIND}.readLockAsync`;
    const { timeout, signal } = asyncOptions(where, options);
    if (this.tryRead()) return true;
    if (timeout === 0) return false;
    const ok = await runAsync(new ReadWait(this.#words, where), this.#words.state, this.#words.futex, timeout, signal, this.#record, where);
    if (ok) this.#gotRead();
    return ok;
  }

  /**
   * Block until the write lock is taken (true) or `timeoutMs` passes (false; `writeLock(0)` only
   * polls). Throws DeadlockError if this thread holds a read or the write lock (through any
   * instance), or has a pending {@link writeLockAsync} on it.
   */
  writeLock(timeoutMs?: number): boolean {
    const where = `${KIND}.writeLock`;
    const timeout = checkTimeout(timeoutMs, where);
    if (Atomics.compareExchange(this.#words.state, 0, 0, RW_WRITE_LOCKED) === 0) {
      this.#record.holder = this;
      return true;
    }
    if (timeout === 0) return this.tryWrite();
    const holder = this.#record.holder;
    if (holder !== undefined) {
      throw new DeadlockError(
        `${where}: this thread holds ${holder === READ_HOLD ? "a read lock" : holder === this ? "the write lock (this instance)" : "the write lock (another instance)"} ` +
          `on it, so waiting for the write lock would never end; ${holder === READ_HOLD ? "readUnlock()" : "writeUnlock()"} first`,
      );
    }
    const w = this.#writeWait ??= new WriteWait(this.#words, where);
    w.slept = false;
    w.others = 0;
    w.spins = this.#spins;
    const ok = runBlocking(w, this.#words.notify, this.#words.futex, timeout, this.#notifyRecord, true, where);
    if (ok) this.#record.holder = this;
    return ok;
  }

  /**
   * Take the write lock without blocking the thread: resolves true when held, false after
   * `timeout` ms; rejects with `signal.reason` on abort, holding nothing. Never spins. While
   * another task of this thread holds a lock it waits for that task's unlock.
   */
  async writeLockAsync(options?: AsyncWaitOptions): Promise<boolean> {
    const where = `${KIND}.writeLockAsync`;
    const { timeout, signal } = asyncOptions(where, options);
    if (Atomics.compareExchange(this.#words.state, 0, 0, RW_WRITE_LOCKED) === 0) {
      this.#record.holder = this;
      return true;
    }
    if (timeout === 0) return this.tryWrite();
    const ok = await runAsync(new WriteWait(this.#words, where), this.#words.notify, this.#words.futex, timeout, signal, this.#notifyRecord, where);
    if (ok) this.#record.holder = this;
    return ok;
  }

  /**
   * Release a read lock this thread holds (through any instance of this word); the last reader
   * out wakes a waiting writer. NotHeldError if this thread holds no read lock.
   */
  readUnlock(): void {
    const where = `${KIND}.readUnlock`;
    const record = this.#record;
    const reads = this.#reads;
    if (reads.n === 0) {
      throw new NotHeldError(
        record.holder === this || (record.holder !== undefined && record.holder !== READ_HOLD)
          ? `${where}: this thread holds the write lock, not a read lock; use writeUnlock()`
          : `${where}: this thread holds no read lock on it; call readUnlock() once per successful read lock`,
      );
    }
    if (--reads.n === 0) record.holder = undefined;
    const view = this.#words.state;
    let s = Atomics.load(view, 0);
    for (;;) {
      const c = s & RW_MASK;
      if (c === 0 || c === RW_WRITE_LOCKED) throw foreign(where, s, "no reader in it");
      const seen = Atomics.compareExchange(view, 0, s, s - RW_READ_LOCKED);
      if (seen === s) break;
      s = seen;
    }
    const now = s - RW_READ_LOCKED;
    if (isUnlocked(now) && (now & RW_WRITERS_WAITING) !== 0) this.#words.wakeWriterOrReaders(now);
  }

  /**
   * Release the write lock this instance holds; wakes a writer, or else the readers, if any
   * wait. NotHeldError if this instance does not hold it.
   */
  writeUnlock(): void {
    const where = `${KIND}.writeUnlock`;
    const record = this.#record;
    if (record.holder !== this) {
      throw new NotHeldError(
        record.holder === READ_HOLD
          ? `${where}: this thread holds a read lock, not the write lock; use readUnlock()`
          : isWriteLocked(Atomics.load(this.#words.state, 0))
          ? `${where}: this instance does not hold the write lock; unlock through the instance that locked it`
          : `${where}: the lock is not write-locked; call writeUnlock() once per successful write lock`,
      );
    }
    record.holder = undefined;
    const view = this.#words.state;
    let s = Atomics.load(view, 0);
    for (;;) {
      if (!isWriteLocked(s)) throw foreign(where, s, "no writer in it");
      const seen = Atomics.compareExchange(view, 0, s, s - RW_WRITE_LOCKED);
      if (seen === s) break;
      s = seen;
    }
    const now = s - RW_WRITE_LOCKED;
    if ((now & WAITING) !== 0) this.#words.wakeWriterOrReaders(now);
  }

  #with<T>(fn: () => T, unlock: () => void): T {
    let result: T;
    try {
      result = fn();
    } catch (e) {
      unlock();
      throw e;
    }
    if (isThenable(result)) return Promise.resolve(result).finally(unlock) as T;
    unlock();
    return result;
  }

  /** Run `fn` holding a read lock (blocking acquire); released after — after its promise settles if it returns one. */
  withRead<T>(fn: () => T): T {
    if (typeof fn !== "function") throw new TypeError(`${KIND}.withRead: pass a function to run under the read lock`);
    this.readLock();
    return this.#with(fn, () => this.readUnlock());
  }

  /** Run `fn` holding the write lock (blocking acquire); released after — after its promise settles if it returns one. */
  withWrite<T>(fn: () => T): T {
    if (typeof fn !== "function") throw new TypeError(`${KIND}.withWrite: pass a function to run under the write lock`);
    this.writeLock();
    return this.#with(fn, () => this.writeUnlock());
  }

  /** Run `fn` holding a read lock acquired without blocking; TimeoutError DOMException on timeout, `signal.reason` on abort. */
  async withReadAsync<T>(fn: () => T | PromiseLike<T>, options?: AsyncWaitOptions): Promise<T> {
    if (typeof fn !== "function") throw new TypeError(`${KIND}.withReadAsync: pass a function to run under the read lock`);
    if (!(await this.readLockAsync(options))) throw timeoutError(`${KIND}.withReadAsync`, options?.timeout);
    try {
      return await fn();
    } finally {
      this.readUnlock();
    }
  }

  /** Run `fn` holding the write lock acquired without blocking; TimeoutError DOMException on timeout, `signal.reason` on abort. */
  async withWriteAsync<T>(fn: () => T | PromiseLike<T>, options?: AsyncWaitOptions): Promise<T> {
    if (typeof fn !== "function") throw new TypeError(`${KIND}.withWriteAsync: pass a function to run under the write lock`);
    if (!(await this.writeLockAsync(options))) throw timeoutError(`${KIND}.withWriteAsync`, options?.timeout);
    try {
      return await fn();
    } finally {
      this.writeUnlock();
    }
  }

  /** Block until a read lock is held; a guard releases it (`using`). TimeoutError DOMException after `timeoutMs`. */
  read(timeoutMs?: number): RwLockGuard {
    if (!this.readLock(timeoutMs)) throw timeoutError(`${KIND}.read`, timeoutMs);
    return new RwLockGuard(() => this.readUnlock());
  }

  /** Block until the write lock is held; a guard releases it (`using`). TimeoutError DOMException after `timeoutMs`. */
  write(timeoutMs?: number): RwLockGuard {
    if (!this.writeLock(timeoutMs)) throw timeoutError(`${KIND}.write`, timeoutMs);
    return new RwLockGuard(() => this.writeUnlock());
  }

  /** A read lock acquired without blocking, as a guard (`await using`); rejects with a TimeoutError DOMException on timeout. */
  async readAsync(options?: AsyncWaitOptions): Promise<RwLockGuard> {
    if (!(await this.readLockAsync(options))) throw timeoutError(`${KIND}.readAsync`, options?.timeout);
    return new RwLockGuard(() => this.readUnlock());
  }

  /** The write lock acquired without blocking, as a guard (`await using`); rejects with a TimeoutError DOMException on timeout. */
  async writeAsync(options?: AsyncWaitOptions): Promise<RwLockGuard> {
    if (!(await this.writeLockAsync(options))) throw timeoutError(`${KIND}.writeAsync`, options?.timeout);
    return new RwLockGuard(() => this.writeUnlock());
  }
}
