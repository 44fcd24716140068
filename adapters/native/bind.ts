/**
 * Runtime-neutral binding of a table row (table.ts) into a Futex and into shared memory. The
 * runtime layers (deno_backend.ts, bun_backend.ts) supply an {@link FfiBackend}: how to open a
 * library, make a pointer, view mapped memory, and start a helper thread. Everything else —
 * argument building, slicing, result interpretation, close — is here, once.
 *
 * The blocking wait loop:
 *   1. closed?            → throw FutexClosedError (never touch memory that may be unmapped)
 *   2. word ≠ expected?   → "not-equal" (the value moved on; the caller re-checks its state)
 *   3. deadline passed?   → "timed-out" (our monotonic clock, not the OS's error code)
 *   4. one OS wait of at most NATIVE_SLICE_MS; a reported wake → "ok"; any other return
 *      (timeout of the slice, EAGAIN, EINTR, spurious) → back to 1.
 * Slicing is what lets a worker parked in the OS futex be terminated: the thread comes back to
 * JavaScript within one slice, where the engine can stop it.
 *
 * waitAsync: steps 1–3 here, then the wait is handed to this thread's shared wait service
 * (wait_service.ts: one helper thread per flavour sleeps for all pending waits of the thread, on
 * many words at once with futex_waitv); `sliceMs` does not apply to it. close() rejects this
 * futex's pending waits there.
 *
 * @module
 */

import { deadlineAfter, type Futex, monotonicNow, remainingMs, type WaitResult } from "../../core/futex.ts";
import { FutexClosedError } from "./errors.ts";
import { type AsyncPath, type HelperHandle, type HelperInit, serviceFor, type WaitService } from "./wait_service.ts";
import {
  type ArgSpec,
  type CallSpec,
  type FlavorSpec,
  NATIVE_SLICE_MS,
  type NativeRow,
  type NativeType,
  rowsFor,
  type SymbolSpec,
  type WaitSpec,
} from "./table.ts";

/** A library opened by a backend: call a symbol on this thread. */
export interface FfiLibrary {
  /**
   * Call `symbol` on this thread; the result converted to a number (undefined for void). A
   * helper's library (opened by the helper, or by the test fake for an in-process helper) may
   * answer with a promise instead: the helper loop awaits every call.
   */
  call(symbol: string, args: unknown[]): number;
  /** Call a pointer-returning `symbol` on this thread; the runtime's pointer value. */
  callPointer(symbol: string, args: unknown[]): unknown;
}

/** What a runtime (Deno, Bun) supplies to the binder. */
export interface FfiBackend {
  /** "deno-ffi", "bun-ffi". */
  readonly runtime: string;
  /** This host's OS and architecture, as the runtime spells them. */
  readonly os: string;
  readonly arch: string;
  /** Open `library` with these symbols; throws a runtime error if it or a symbol is missing. */
  open(library: string, symbols: Readonly<Record<string, SymbolSpec>>): FfiLibrary;
  /** A pointer to `view[index]` (view over a SharedArrayBuffer, or over mapped memory). */
  pointerTo(view: Int32Array | BigInt64Array | Uint8Array, index: number): unknown;
  /** A plain ArrayBuffer over `length` bytes of native memory at `pointer`. */
  bufferAt(pointer: unknown, length: number): ArrayBuffer;
  /** The numeric address of a pointer (to recognise MAP_FAILED / null). */
  address(pointer: unknown): bigint;
  /** The pointer at a numeric address (the inverse of {@link FfiBackend.address}). */
  pointerAt(address: bigint): unknown;
  /** The 32-bit word at `pointer` (a helper re-reading a registered word it has no view of). */
  load32(pointer: unknown): number;
  /**
   * Start a helper thread for async waits (adapters/native/wait_helper.ts runs `init` there). It
   * must never keep the process alive by itself, and must stop when this thread is terminated.
   */
  startHelper(init: HelperInit): HelperHandle;
}

/**
 * A native futex: a Futex plus `close()`, after which waits throw {@link FutexClosedError}.
 *
 * One difference from a bare OS futex, in `waitAsync` only: async waits sleep in a shared helper
 * thread (wait_service.ts), and a wake that lands while the helper is between two OS waits is
 * seen only through the word's value. A wake that comes with a change of the word (as every
 * protocol of this library makes it) is never lost; a bare `wakeOne`/`wakeAll` on an unchanged
 * word can miss an async waiter (it then ends by its timeout). Blocking `wait` has no such gap.
 */
export interface NativeFutex extends Futex {
  /** The table row this futex was bound from ("linux-x86_64", …). */
  readonly row: string;
  /** Stop: pending async waits reject with FutexClosedError, new waits throw it. Idempotent. */
  close(): void;
  /** True after {@link NativeFutex.close}. */
  readonly closed: boolean;
  /**
   * OS waits that slept a whole slice without being woken: a thread that legitimately slept that
   * long, or a wakeup that never came. Stress tests with a long slice assert 0.
   */
  readonly expiredSlices: number;
}

/** Options of the native futex factories. */
export interface NativeFutexOptions {
  /**
   * True for a futex that reaches other processes mapping the same memory (no PRIVATE flag).
   * Default false: process-private, the faster form for a SharedArrayBuffer shared by workers.
   */
  crossProcess?: boolean;
  /**
   * Longest single OS wait in milliseconds (default {@link NATIVE_SLICE_MS}, 1–60 000). A thread
   * re-checks its word and the close flag after each slice, and can only be terminated between
   * slices, so a longer slice delays `worker.terminate()` and process exit by up to that much.
   */
  sliceMs?: number;
  /**
   * Internal, for tests: force how async waits reach the OS — "waitv" (one helper sleeping on
   * up to 127 words with futex_waitv, where the row has it) or "slices" (the bounded pool of
   * helpers taking turns on single words, the path of rows without futex_waitv).
   */
  asyncPath?: "waitv" | "slices";
}

const UNSIGNED: ReadonlySet<NativeType> = new Set(["u32", "u64"]);

/** One opened row: the library, and per flavour a bound futex factory. */
interface OpenedRow {
  readonly row: NativeRow;
  readonly lib: FfiLibrary;
}

const opened = new WeakMap<FfiBackend, OpenedRow>();

/** Open the first row of this host the backend can load (macOS: os_sync, else ulock). */
export function openRow(backend: FfiBackend): OpenedRow {
  const hit = opened.get(backend);
  if (hit) return hit;
  const rows = rowsFor(backend.os, backend.arch);
  let lastError: unknown;
  for (const row of rows) {
    try {
      const lib = backend.open(row.library, row.symbols);
      const o = { row, lib };
      opened.set(backend, o);
      return o;
    } catch (e) {
      if ((e as Error)?.name === "FfiPermissionError") throw e;
      lastError = e;
    }
  }
  throw new Error(
    `could not open a native futex on ${backend.os}/${backend.arch}: tried ${rows.map((r) => `${r.id} (${r.library})`).join(", ")}`,
    { cause: lastError },
  );
}

/** Fill a timeout slot for `ms` milliseconds (> 0) into `scratch` (24 bytes) and return the argument value. */
export function encodeTimeout(spec: WaitSpec, ms: number, scratch: BigInt64Array, scratch32: Int32Array): number | null {
  switch (spec.timeout) {
    case "timespec":
    case "umtx_time": {
      const ns = Math.max(1, Math.round(ms * 1e6));
      scratch[0] = BigInt(Math.floor(ns / 1e9));
      scratch[1] = BigInt(ns % 1e9);
      if (spec.timeout === "umtx_time") {
        scratch32[4] = 0; // _flags: relative
        scratch32[5] = 4; // _clockid: CLOCK_MONOTONIC (FreeBSD)
      }
      return null; // the pointer is filled by the caller
    }
    case "ms":
      return Math.max(1, Math.ceil(ms));
    case "us":
      return Math.max(1, Math.ceil(ms * 1000)); // 0 would mean "forever" for __ulock_wait
    case "ns":
      return Math.max(1, Math.round(ms * 1e6));
  }
}

/** A reusable argument list for one call: constants filled once, placeholders per call. */
export class ArgList {
  readonly values: unknown[];
  readonly word: number[] = [];
  readonly expected: number[] = [];
  readonly compare: number[] = [];
  readonly timeout: number[] = [];

  readonly unsignedExpected: boolean[];

  constructor(spec: CallSpec, sig: SymbolSpec, unsignedExpected: boolean[] = []) {
    this.unsignedExpected = unsignedExpected;
    this.values = spec.args.map((a: ArgSpec, i) => {
      switch (a) {
        case "word":
          this.word.push(i);
          return null;
        case "expected":
          this.expected.push(i);
          this.unsignedExpected.push(UNSIGNED.has(sig.parameters[i]));
          return 0;
        case "compare":
          this.compare.push(i);
          return null;
        case "timeout":
          this.timeout.push(i);
          return null;
        case "timeout-size":
          // sizeof(struct _umtx_time): _umtx_op(2) reads a size of 16 or less as a bare timespec
          // on CLOCK_REALTIME, ignoring the _flags and _clockid the binder fills in.
          return 24;
        case "null":
          return null;
        default:
          return a;
      }
    });
  }
}

/** Per-call memory a wait hands to the OS: the timeout structure and the compare copy. */
export class Scratch {
  readonly i64: BigInt64Array;
  readonly i32: Int32Array;
  readonly timeoutPtr: unknown;
  readonly comparePtr: unknown;
  constructor(backend: FfiBackend) {
    // Shared memory never moves under the garbage collector, so its pointer stays valid.
    const sab = new SharedArrayBuffer(32);
    this.i64 = new BigInt64Array(sab, 0, 3);
    this.i32 = new Int32Array(sab);
    this.timeoutPtr = backend.pointerTo(this.i64, 0);
    this.comparePtr = backend.pointerTo(this.i32, 7);
  }
}

/** Fill `list` for a wait of `ms` on the word at `ptr` using `scratch`; returns the argument array. */
export function fillWaitArgs(
  spec: WaitSpec,
  list: ArgList,
  values: unknown[],
  ptr: unknown,
  expected: number,
  ms: number,
  scratch: Scratch,
): unknown[] {
  for (const i of list.word) values[i] = ptr;
  for (let k = 0; k < list.expected.length; k++) {
    values[list.expected[k]] = list.unsignedExpected[k] ? expected >>> 0 : expected | 0;
  }
  if (list.compare.length > 0) {
    scratch.i32[7] = expected;
    for (const i of list.compare) values[i] = scratch.comparePtr;
  }
  const t = encodeTimeout(spec, ms, scratch.i64, scratch.i32);
  for (const i of list.timeout) values[i] = t === null ? scratch.timeoutPtr : t;
  return values;
}

/** Whether a wait's return value reports a wake (the row's convention). */
export function wokeBy(spec: WaitSpec, r: number): boolean {
  switch (spec.woke) {
    case "zero":
      return r === 0;
    case "nonzero":
      return r !== 0;
    case "non-negative":
      return r >= 0;
  }
}

const wordPointers = new WeakMap<Int32Array, unknown>();

/** A bound native futex. Instances are per thread (each worker binds its own). */
class BoundFutex implements NativeFutex {
  readonly name: string;
  readonly crossProcess: boolean;
  readonly domain: "os-private" | "os-shared";
  readonly requiresSharedArrayBuffer = false;
  readonly row: string;
  #closed = false;
  #expired = 0;
  readonly #sliceMs: number;
  readonly #backend: FfiBackend;
  readonly #lib: FfiLibrary;
  readonly #flavor: FlavorSpec;
  readonly #waitSig: SymbolSpec;
  readonly #waitArgs: ArgList;
  readonly #wakeOneArgs: ArgList;
  readonly #wakeAllArgs: ArgList;
  readonly #scratch: Scratch;
  readonly #service: WaitService;

  constructor(
    backend: FfiBackend,
    opened: OpenedRow,
    flavor: FlavorSpec,
    crossProcess: boolean,
    sliceMs: number,
    asyncPath?: AsyncPath,
  ) {
    this.#sliceMs = sliceMs;
    this.#backend = backend;
    this.#lib = opened.lib;
    this.#flavor = flavor;
    this.row = opened.row.id;
    this.name = flavor.name;
    this.crossProcess = crossProcess;
    this.domain = crossProcess ? "os-shared" : "os-private";
    const sig = (c: CallSpec): SymbolSpec => opened.row.symbols[c.symbol];
    this.#waitSig = sig(flavor.wait);
    this.#waitArgs = new ArgList(flavor.wait, this.#waitSig);
    this.#wakeOneArgs = new ArgList(flavor.wakeOne, sig(flavor.wakeOne));
    this.#wakeAllArgs = new ArgList(flavor.wakeAll, sig(flavor.wakeAll));
    this.#scratch = new Scratch(backend);
    this.#service = serviceFor(backend, opened.row, flavor, crossProcess, asyncPath, (view, index) => this.#rawWakeOne(view, index));
  }

  /** A wake-one that works after close (the service passes on a wake a closed futex's wait took). */
  #rawWakeOne(view: Int32Array, index: number): void {
    const list = this.#wakeOneArgs;
    const values = list.values.slice();
    const ptr = this.#pointer(view, index);
    for (const i of list.word) values[i] = ptr;
    this.#lib.call(this.#flavor.wakeOne.symbol, values);
  }

  get closed(): boolean {
    return this.#closed;
  }

  get expiredSlices(): number {
    return this.#expired;
  }

  /**
   * After a slice without a reported wake: count it if it was a full slice that really lasted
   * (not an early EAGAIN or EINTR). Whatever the word holds now, nobody woke us for a whole slice.
   */
  #afterSlice(slice: number, started: number): void {
    if (slice === this.#sliceMs && !this.#closed && monotonicNow() - started >= slice - 1) this.#expired++;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#service.closeOwner(this, new FutexClosedError(`${this.name}: the futex was closed while an async wait was pending`));
  }

  #checkOpen(op: string): void {
    if (this.#closed) {
      throw new FutexClosedError(`${this.name}.${op}: this native futex (or its shared region) is closed; open a new one`);
    }
  }

  #pointer(view: Int32Array, index: number): unknown {
    if (index !== 0) return this.#backend.pointerTo(view, index);
    let p = wordPointers.get(view);
    if (p === undefined) {
      p = this.#backend.pointerTo(view, 0);
      wordPointers.set(view, p);
    }
    return p;
  }

  /** Fill `list` for a wait of `ms` on `view[index]` using `scratch`; returns the argument array. */
  #fillWait(list: ArgList, values: unknown[], view: Int32Array, index: number, expected: number, ms: number, scratch: Scratch): unknown[] {
    return fillWaitArgs(this.#flavor.wait, list, values, this.#pointer(view, index), expected, ms, scratch);
  }

  #woke(r: number): boolean {
    return wokeBy(this.#flavor.wait, r);
  }

  wait(view: Int32Array, index: number, expected: number, timeoutMs?: number): WaitResult {
    this.#checkOpen("wait");
    const deadline = deadlineAfter(timeoutMs);
    const symbol = this.#flavor.wait.symbol;
    for (;;) {
      if (Atomics.load(view, index) !== expected) return "not-equal";
      const left = remainingMs(deadline);
      if (left <= 0) return "timed-out";
      const slice = Math.min(left, this.#sliceMs);
      const args = this.#fillWait(this.#waitArgs, this.#waitArgs.values, view, index, expected, slice, this.#scratch);
      const started = monotonicNow();
      if (this.#woke(this.#lib.call(symbol, args))) return "ok";
      this.#afterSlice(slice, started);
    }
  }

  waitAsync(view: Int32Array, index: number, expected: number, timeoutMs?: number, signal?: AbortSignal): Promise<WaitResult> {
    try {
      this.#checkOpen("waitAsync");
    } catch (e) {
      return Promise.reject(e);
    }
    if (signal?.aborted) return Promise.resolve("ok");
    if (Atomics.load(view, index) !== expected) return Promise.resolve("not-equal");
    if (timeoutMs !== undefined && !(timeoutMs > 0)) return Promise.resolve("timed-out");
    // One shared helper thread per thread and flavour sleeps for every pending wait (wait_service.ts).
    return this.#service.wait(this, view, index, this.#pointer(view, index), expected, timeoutMs, signal);
  }

  #wake(list: ArgList, view: Int32Array, index: number, op: string): void {
    this.#checkOpen(op);
    const ptr = this.#pointer(view, index);
    const values = list.values;
    for (const i of list.word) values[i] = ptr;
    this.#lib.call(op === "wakeOne" ? this.#flavor.wakeOne.symbol : this.#flavor.wakeAll.symbol, values);
  }

  wakeOne(view: Int32Array, index: number): void {
    this.#wake(this.#wakeOneArgs, view, index, "wakeOne");
  }

  wakeAll(view: Int32Array, index: number): void {
    this.#wake(this.#wakeAllArgs, view, index, "wakeAll");
  }
}

/** Bind this host's row into a native futex (process-private unless `crossProcess`). */
export function bindNativeFutex(backend: FfiBackend, options: NativeFutexOptions = {}): NativeFutex {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`nativeFutex: options must be an object like { crossProcess: true } (got ${options === null ? "null" : typeof options})`);
  }
  const cross = options.crossProcess ?? false;
  if (typeof cross !== "boolean") {
    throw new TypeError(`nativeFutex: crossProcess must be true or false (got ${typeof cross})`);
  }
  const sliceMs = options.sliceMs ?? NATIVE_SLICE_MS;
  if (typeof sliceMs !== "number" || !(sliceMs >= 1 && sliceMs <= 60_000)) {
    throw new RangeError(`nativeFutex: sliceMs must be a number of milliseconds from 1 to 60000 (got ${String(sliceMs)})`);
  }
  const path = options.asyncPath;
  if (path !== undefined && path !== "waitv" && path !== "slices") {
    throw new TypeError(`nativeFutex: asyncPath must be "waitv" or "slices" (got ${String(path)})`);
  }
  const o = openRow(backend);
  if (!cross) return new BoundFutex(backend, o, o.row.private, false, sliceMs, path);
  if (!o.row.shared) throw new TypeError(`nativeFutex({ crossProcess: true }): ${o.row.noSharedReason}`);
  return new BoundFutex(backend, o, o.row.shared, true, sliceMs, path);
}
