/**
 * The Deno FFI backend of the binder (bind.ts): `Deno.dlopen`, pointers, and helper threads for
 * async waits. Used by deno_ffi.ts and by the helper worker itself (wait_helper_worker.ts).
 *
 * @module
 */

import type { FfiBackend, FfiLibrary } from "./bind.ts";
import type { NativeType, SymbolSpec } from "./table.ts";
import { FfiPermissionError } from "./errors.ts";
import { startWorkerHelper } from "./helper_host.ts";

/** The slice of the Deno namespace this layer uses (declared here so the file type-checks anywhere). */
interface DenoFfi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  UnsafePointer: {
    of(view: ArrayBufferView): unknown;
    create(address: bigint): unknown;
    offset(pointer: unknown, bytes: number): unknown;
    value(pointer: unknown): bigint | number;
  };
  UnsafePointerView: {
    new (pointer: unknown): { getInt32(offset?: number): number };
    getArrayBuffer(pointer: unknown, byteLength: number): ArrayBuffer;
  };
  build: { os: string; arch: string };
}

function deno(): DenoFfi {
  const d = (globalThis as { Deno?: DenoFfi }).Deno;
  if (d === undefined || typeof d.dlopen !== "function") {
    throw new TypeError("@futex/sync/deno runs only in Deno (Deno.dlopen is missing here); in Bun import @futex/sync/bun");
  }
  return d;
}

function permission<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const name = (e as Error)?.name;
    if (name === "NotCapable" || name === "PermissionDenied") {
      throw new FfiPermissionError(
        `${what}: Deno needs FFI permission for native futexes; run with --allow-ffi (for example \`deno run --allow-ffi main.ts\`, or -A)`,
        { cause: e },
      );
    }
    throw e;
  }
}

const TYPE: Record<NativeType, string> = { i32: "i32", u32: "u32", i64: "i64", u64: "u64", pointer: "pointer", void: "void" };

function toNumber(v: unknown): number {
  return typeof v === "bigint" ? Number(v) : (v as number);
}

/** The Deno FFI backend of the binder. */
export const denoBackend: FfiBackend = {
  runtime: "deno-ffi",
  get os(): string {
    return deno().build.os;
  },
  get arch(): string {
    return deno().build.arch;
  },
  open(library: string, symbols: Readonly<Record<string, SymbolSpec>>): FfiLibrary {
    const D = deno();
    // No `nonblocking` twins: those run on Deno's blocking pool, shared with file I/O, and a
    // parked wait would hold one of its threads (async waits go to a helper thread instead).
    const defs: Record<string, { parameters: string[]; result: string }> = {};
    for (const [name, s] of Object.entries(symbols)) defs[name] = { parameters: s.parameters.map((t) => TYPE[t]), result: TYPE[s.result] };
    const lib = permission(`Deno.dlopen("${library}")`, () => D.dlopen(library, defs));
    const fns = lib.symbols;
    return {
      call: (symbol, args) => toNumber(fns[symbol](...args)),
      callPointer: (symbol, args) => fns[symbol](...args),
    };
  },
  pointerTo(view: Int32Array | BigInt64Array | Uint8Array, index: number): unknown {
    const D = deno();
    const base = permission("Deno.UnsafePointer.of", () => D.UnsafePointer.of(view));
    return index === 0 ? base : D.UnsafePointer.offset(base, index * view.BYTES_PER_ELEMENT);
  },
  bufferAt(pointer: unknown, length: number): ArrayBuffer {
    return deno().UnsafePointerView.getArrayBuffer(pointer, length);
  },
  address(pointer: unknown): bigint {
    return pointer === null ? 0n : BigInt(deno().UnsafePointer.value(pointer));
  },
  pointerAt(address: bigint): unknown {
    return deno().UnsafePointer.create(address);
  },
  load32(pointer: unknown): number {
    return new (deno().UnsafePointerView)(pointer).getInt32(0);
  },
  startHelper: startWorkerHelper,
};
