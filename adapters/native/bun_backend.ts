/**
 * The bun:ffi backend of the binder (bind.ts): `dlopen`, pointers, and helper threads for async
 * waits. Used by bun_ffi.ts and by the helper worker itself (wait_helper_worker.ts).
 *
 * @module
 */

import type { FfiBackend, FfiLibrary } from "./bind.ts";
import type { NativeType, SymbolSpec } from "./table.ts";
import { startWorkerHelper } from "./helper_host.ts";

/** The slice of `bun:ffi` this layer uses (declared here so the file type-checks anywhere). */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  ptr(view: ArrayBufferView, byteOffset?: number): number;
  toArrayBuffer(pointer: number, byteOffset: number, byteLength: number): ArrayBuffer;
  read: { i32(pointer: number, byteOffset?: number): number };
}

let ffiModule: BunFfi | undefined;
function ffi(): BunFfi {
  if (ffiModule) return ffiModule;
  const req = (import.meta as unknown as { require?: (id: string) => unknown }).require;
  if ((globalThis as { Bun?: unknown }).Bun === undefined || typeof req !== "function") {
    throw new TypeError("@futex/sync/bun runs only in Bun (bun:ffi is missing here); in Deno import @futex/sync/deno");
  }
  return (ffiModule = req("bun:ffi") as BunFfi);
}

const TYPE: Record<NativeType, string> = { i32: "i32", u32: "u32", i64: "i64", u64: "u64", pointer: "ptr", void: "void" };

function toNumber(v: unknown): number {
  return typeof v === "bigint" ? Number(v) : (v as number);
}

function definitions(symbols: Readonly<Record<string, SymbolSpec>>): Record<string, { args: string[]; returns: string }> {
  const defs: Record<string, { args: string[]; returns: string }> = {};
  for (const [name, s] of Object.entries(symbols)) defs[name] = { args: s.parameters.map((t) => TYPE[t]), returns: TYPE[s.result] };
  return defs;
}

/** The bun:ffi backend of the binder. */
export const bunBackend: FfiBackend = {
  runtime: "bun-ffi",
  get os(): string {
    ffi();
    return (globalThis as unknown as { process: { platform: string } }).process.platform;
  },
  get arch(): string {
    return (globalThis as unknown as { process: { arch: string } }).process.arch;
  },
  open(library: string, symbols: Readonly<Record<string, SymbolSpec>>): FfiLibrary {
    const defs = definitions(symbols);
    const fns = ffi().dlopen(library, defs).symbols;
    return {
      call: (symbol, args) => toNumber(fns[symbol](...args)),
      callPointer: (symbol, args) => fns[symbol](...args),
    };
  },
  pointerTo(view: Int32Array | BigInt64Array | Uint8Array, index: number): unknown {
    return ffi().ptr(view, index * view.BYTES_PER_ELEMENT);
  },
  bufferAt(pointer: unknown, length: number): ArrayBuffer {
    return ffi().toArrayBuffer(pointer as number, 0, length);
  },
  address(pointer: unknown): bigint {
    return pointer === null ? 0n : BigInt(pointer as number);
  },
  pointerAt(address: bigint): unknown {
    return Number(address);
  },
  load32(pointer: unknown): number {
    return ffi().read.i32(pointer as number, 0);
  },
  startHelper: startWorkerHelper,
};
