/**
 * A recording fake of the binder's FFI layer (the `FfiBackend` of adapters/native/bind.ts), so
 * that every row of the native table runs on any host: it pretends to be an OS and architecture,
 * "opens" a library by checking the symbols asked for, records each call (symbol, arguments with
 * pointers snapshotted at call time) and answers with whatever the test scripts. It marshals
 * like an FFI would: a call must name a declared symbol, pass exactly its parameters, and every
 * value must fit its C type (an `i32` in 32 signed bits, a `u64` non-negative, a pointer a
 * pointer or NULL), so a wrongly signed or wrongly typed argument fails loudly.
 *
 * It knows nothing of any OS: decoding a pointer as a `struct timespec` or a `struct _umtx_time`
 * is left to the test, which does it from the man page.
 */

import type { FfiBackend, FfiLibrary } from "../../adapters/native/bind.ts";
import type { NativeType, SymbolSpec } from "../../adapters/native/table.ts";

let nextAddress = 0x10000n;

/** A fake pointer: `byteOffset` into `buffer` (a word's SharedArrayBuffer, the binder's scratch, a mapping). */
export class FakePointer {
  constructor(
    readonly buffer: ArrayBufferLike,
    readonly byteOffset: number,
    readonly address: bigint = (nextAddress += 0x100n),
  ) {}
}

/** A pointer argument as it was when the call was made: where it points and the bytes there. */
export interface PointerArg {
  readonly pointer: FakePointer;
  /** Up to 32 bytes from the pointer, copied at call time (the binder reuses its scratch). */
  readonly bytes: DataView;
}

/** One recorded call. Pointer arguments are {@link PointerArg}s, NULL is `null`, integers are kept as passed. */
export interface RecordedCall {
  readonly symbol: string;
  readonly args: readonly unknown[];
  /** True for `callAsync` (the runtime's nonblocking call / helper worker). */
  readonly async: boolean;
}

/** What a scripted call answers: a return value, or a promise of one for async calls. */
export type Responder = (call: RecordedCall) => number | Promise<number>;

export function isPointerArg(v: unknown): v is PointerArg {
  return typeof v === "object" && v !== null && (v as PointerArg).pointer instanceof FakePointer;
}

const RANGES: Record<Exclude<NativeType, "pointer" | "void">, [bigint, bigint]> = {
  i32: [-(2n ** 31n), 2n ** 31n - 1n],
  u32: [0n, 2n ** 32n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u64: [0n, 2n ** 64n - 1n],
};

function marshal(symbol: string, sig: SymbolSpec, args: unknown[]): unknown[] {
  if (args.length !== sig.parameters.length) {
    throw new TypeError(`${symbol}: ${args.length} arguments for ${sig.parameters.length} parameters`);
  }
  return args.map((a, i) => {
    const t = sig.parameters[i];
    if (t === "pointer") {
      if (a === null) return null;
      if (!(a instanceof FakePointer)) throw new TypeError(`${symbol} argument ${i}: ${String(a)} is not a pointer`);
      // A mapping's buffer is detached by close() before munmap gets its pointer: no bytes then.
      const len = Math.max(0, Math.min(32, a.buffer.byteLength - a.byteOffset));
      const copy = new Uint8Array(len);
      if (len > 0) copy.set(new Uint8Array(a.buffer, a.byteOffset, len));
      return { pointer: a, bytes: new DataView(copy.buffer) } satisfies PointerArg;
    }
    if (t === "void") throw new TypeError(`${symbol}: void parameter`);
    const isInt = typeof a === "bigint" || (typeof a === "number" && Number.isInteger(a));
    if (!isInt) throw new TypeError(`${symbol} argument ${i}: ${String(a)} is not an integer for ${t}`);
    const v = BigInt(a as number | bigint);
    const [lo, hi] = RANGES[t];
    if (v < lo || v > hi) throw new TypeError(`${symbol} argument ${i}: ${String(a)} does not fit ${t}`);
    return a;
  });
}

/** The fake: an {@link FfiBackend} plus what the test scripts and reads. */
export class FakeFfi implements FfiBackend {
  readonly runtime = "fake-ffi";
  /** Every call, in order. */
  readonly calls: RecordedCall[] = [];
  /** Libraries opened, with the symbols asked for. */
  readonly opened: { library: string; symbols: Readonly<Record<string, SymbolSpec>> }[] = [];
  /** A bound on recorded calls, so a binder that never stops calling fails instead of hanging. */
  maxCalls = 100_000;
  /** Answers wait and wake calls; the default answers 0. */
  respond: Responder = () => 0;
  /** Answers pointer-returning calls (mmap, the errno location). */
  respondPointer: (call: RecordedCall) => FakePointer | null = () => null;

  /**
   * @param os the OS the fake pretends to be, spelled as a runtime does ("linux", "win32", "darwin", …)
   * @param arch the architecture, likewise ("x64", "arm64", "x86_64", …)
   * @param missing symbols this "OS" lacks: opening a library that needs one fails as dlopen would
   * @param openError thrown by every open instead (a permission refusal, …)
   */
  constructor(
    readonly os: string,
    readonly arch: string,
    readonly missing: readonly string[] = [],
    readonly openError?: Error,
  ) {}

  /** The calls of one symbol. */
  callsOf(symbol: string): RecordedCall[] {
    return this.calls.filter((c) => c.symbol === symbol);
  }

  open(library: string, symbols: Readonly<Record<string, SymbolSpec>>): FfiLibrary {
    if (this.openError) throw this.openError;
    const names = Object.keys(symbols);
    const absent = names.find((s) => this.missing.includes(s));
    if (absent) throw new Error(`Failed to register symbol ${absent}: symbol not found in ${library}`);
    this.opened.push({ library, symbols });
    const record = (symbol: string, args: unknown[], async: boolean): RecordedCall => {
      if (this.calls.length >= this.maxCalls) throw new Error(`${symbol}: more than ${this.maxCalls} calls — the binder is looping`);
      const sig = symbols[symbol];
      if (!sig) throw new TypeError(`${symbol} was not declared when ${library} was opened`);
      const call = { symbol, args: marshal(symbol, sig, args), async };
      this.calls.push(call);
      return call;
    };
    return {
      call: (symbol, args) => {
        const r = this.respond(record(symbol, args, false));
        if (typeof r !== "number") throw new TypeError(`${symbol}: a blocking call was answered with a promise`);
        return r;
      },
      callPointer: (symbol, args) => this.respondPointer(record(symbol, args, false)),
      callAsync: async (symbol, args) => await this.respond(record(symbol, args, true)),
    };
  }

  pointerTo(view: Int32Array | BigInt64Array | Uint8Array, index: number): unknown {
    return new FakePointer(view.buffer, view.byteOffset + index * view.BYTES_PER_ELEMENT);
  }

  bufferAt(pointer: unknown, length: number): ArrayBuffer {
    const p = pointer as FakePointer;
    if (!(p instanceof FakePointer) || p.byteOffset !== 0 || p.buffer.byteLength !== length || !(p.buffer instanceof ArrayBuffer)) {
      throw new TypeError(`bufferAt: ${String(pointer)} is not the start of a ${length}-byte fake mapping`);
    }
    return p.buffer;
  }

  address(pointer: unknown): bigint {
    return pointer === null ? 0n : (pointer as FakePointer).address;
  }
}

/** Sleep `ms` on this thread, as a blocking OS wait would. */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Resolve after `ms`, as a nonblocking OS wait would. */
export function sleepAsync(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
