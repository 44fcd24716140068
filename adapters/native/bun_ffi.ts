/**
 * Native futexes for Bun: binds this host's row of the table with `bun:ffi`. Bun has no
 * nonblocking FFI calls, so async waits run their slices in helper workers (a small pool, one
 * wait per helper at a time; idle helpers are unref'd and never keep the process alive).
 *
 * @example
 * ```ts
 * import { ManualResetEvent } from "@futex/sync";
 * import { openSharedRegion } from "@futex/sync/bun";
 * using region = openSharedRegion("/my-app", 4096, { create: true });
 * const ev = new ManualResetEvent({ buffer: region.buffer, byteOffset: 0, futex: region.futex });
 * ```
 *
 * @module
 */

import type { FfiBackend, FfiLibrary, NativeFutex, NativeFutexOptions } from "./bind.ts";
import { bindNativeFutex } from "./bind.ts";
import {
  createSealedRegionWith,
  openRegionWith,
  openSealedRegionWith,
  type SealedRegion,
  type SealedRegionOptions,
  type SharedRegion,
  type SharedRegionOptions,
  unlinkRegionWith,
} from "./shared_memory.ts";
import type { NativeType, SymbolSpec } from "./table.ts";

/** The slice of `bun:ffi` this layer uses (declared here so the file type-checks anywhere). */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  ptr(view: ArrayBufferView, byteOffset?: number): number;
  toArrayBuffer(pointer: number, byteOffset: number, byteLength: number): ArrayBuffer;
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

/** The slice of Bun's global (web) Worker this layer uses; `ref`/`unref` are Bun extensions. */
interface BunWorker {
  postMessage(message: unknown): void;
  addEventListener(type: "message" | "error", listener: (event: { data?: unknown; message?: string }) => void): void;
  ref(): void;
  unref(): void;
  terminate(): void;
}
type BunWorkerConstructor = new (url: URL, options: { type: "module" }) => BunWorker;

/** A helper worker running one blocking call at a time for the async path. */
interface Helper {
  worker: BunWorker;
  resolve?: (r: number) => void;
  reject?: (e: Error) => void;
}

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const MAX_IDLE_HELPERS = 4;

/** Run calls of one library in helper workers; idle helpers are pooled. */
function helperPool(library: string, defs: Record<string, { args: string[]; returns: string }>): FfiLibrary["callAsync"] {
  const idle: Helper[] = [];
  const spawn = (): Helper => {
    const W = (globalThis as unknown as { Worker: BunWorkerConstructor }).Worker;
    const worker = new W(new URL(`./bun_call_worker${ext}`, import.meta.url), { type: "module" });
    worker.postMessage({ library, defs }); // the first message opens the library
    const h: Helper = { worker };
    worker.addEventListener("message", (event) => {
      const m = event.data as { r?: number; error?: string };
      const { resolve, reject } = h;
      h.resolve = h.reject = undefined;
      worker.unref();
      if (idle.length < MAX_IDLE_HELPERS) idle.push(h);
      else worker.terminate();
      if (m.error !== undefined) reject?.(new Error(`native wait in a helper worker failed: ${m.error}`));
      else resolve?.(m.r as number);
    });
    worker.addEventListener("error", (event) => h.reject?.(new Error(`native wait helper crashed: ${event.message ?? "unknown error"}`)));
    return h;
  };
  return (symbol: string, args: unknown[]): Promise<number> =>
    new Promise<number>((resolve, reject) => {
      const h = idle.pop() ?? spawn();
      h.resolve = resolve;
      h.reject = reject;
      h.worker.ref();
      h.worker.postMessage({ symbol, args });
    });
}

/** The bun:ffi backend of the binder. */
const bunBackend: FfiBackend = {
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
      callAsync: helperPool(library, defs),
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
};

/**
 * A native (OS) futex bound through bun:ffi: process-private by default, or cross-process with
 * `{ crossProcess: true }` for words in shared memory. Throws UnsupportedPlatformError on an
 * OS/architecture the table lacks.
 *
 * @example
 * ```ts
 * import { Mutex } from "@futex/sync";
 * import { nativeFutex } from "@futex/sync/bun";
 * const m = new Mutex({ futex: nativeFutex() }); // shared with workers through m.handle
 * ```
 */
export function nativeFutex(options?: NativeFutexOptions): NativeFutex {
  return bindNativeFutex(bunBackend, options);
}

/**
 * Open (or with `{ create: true }` create) the named shared-memory region of `byteLength` bytes.
 * Refuses (SharedRegionPermissionError) a region owned by another user or writable by group or
 * others unless `{ allowForeign: true }`, and anything that is not a regular file. On Linux a
 * region being created is reserved in /dev/shm, so a full /dev/shm is an ENOSPC error here
 * rather than a SIGBUS later. Anyone who can open the name can still truncate it: for words a
 * co-tenant must not be able to pull away, use {@link createSealedRegion}.
 *
 * @example
 * ```ts
 * import { openSharedRegion } from "@futex/sync/bun";
 * const region = openSharedRegion("/demo", 64, { create: true });
 * region.close();
 * region.unlink();
 * ```
 */
export function openSharedRegion(name: string, byteLength: number, options?: SharedRegionOptions): SharedRegion {
  return openRegionWith(bunBackend, name, byteLength, options);
}

/**
 * Create a sealed region (Linux): anonymous shared memory whose size nobody can change, so no
 * process can make another die of SIGBUS by truncating it. Other processes of this user open it
 * with {@link openSealedRegion} and its `path` (`/proc/<pid>/fd/<fd>`), valid while it is open
 * here. Elsewhere: UnsupportedPlatformError.
 *
 * @example
 * ```ts
 * import { Mutex } from "@futex/sync";
 * import { createSealedRegion } from "@futex/sync/bun";
 * using region = createSealedRegion(4096);
 * const m = new Mutex({ buffer: region.buffer, byteOffset: 0, futex: region.futex });
 * console.log(region.path); // another process: openSealedRegion(path, 4096)
 * ```
 */
export function createSealedRegion(byteLength: number, options?: SealedRegionOptions): SealedRegion {
  return createSealedRegionWith(bunBackend, byteLength, options);
}

/**
 * Open a sealed region by the `path` its holder gave (Linux), checking that the seals are there
 * (SharedRegionPermissionError if not) and that it has at least `byteLength` bytes.
 *
 * @example
 * ```ts
 * import { Mutex } from "@futex/sync";
 * import { openSealedRegion } from "@futex/sync/bun";
 * const path = "/proc/1234/fd/7"; // the holder's region.path
 * using region = openSealedRegion(path, 4096);
 * const m = Mutex.from({ buffer: region.buffer, byteOffset: 0 }, { futex: region.futex });
 * ```
 */
export function openSealedRegion(path: string, byteLength: number, options?: SealedRegionOptions): SealedRegion {
  return openSealedRegionWith(bunBackend, path, byteLength, options);
}

/** Remove a region's name (`shm_unlink`); false if there was none. */
export function unlinkSharedRegion(name: string): boolean {
  return unlinkRegionWith(bunBackend, name);
}

export * from "./exports.ts";
