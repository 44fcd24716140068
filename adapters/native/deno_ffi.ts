/**
 * Native futexes for Deno: binds this host's row of the table with `Deno.dlopen`. Needs
 * `--allow-ffi` (or `-A`). Async waits use a `nonblocking` twin of the wait symbol, which runs
 * on Deno's blocking-thread pool and returns a promise.
 *
 * @example
 * ```ts
 * import { ManualResetEvent } from "@futex/sync";
 * import { openSharedRegion } from "@futex/sync/deno";
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
import { FfiPermissionError } from "./errors.ts";

/** The slice of the Deno namespace this layer uses (declared here so the file type-checks anywhere). */
interface DenoFfi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string; nonblocking?: boolean; name?: string }>,
  ): { symbols: Record<string, (...args: unknown[]) => unknown> };
  UnsafePointer: {
    of(view: ArrayBufferView): unknown;
    offset(pointer: unknown, bytes: number): unknown;
    value(pointer: unknown): bigint | number;
  };
  UnsafePointerView: { getArrayBuffer(pointer: unknown, byteLength: number): ArrayBuffer };
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
const denoBackend: FfiBackend = {
  runtime: "deno-ffi",
  get os(): string {
    return deno().build.os;
  },
  get arch(): string {
    return deno().build.arch;
  },
  open(library: string, symbols: Readonly<Record<string, SymbolSpec>>): FfiLibrary {
    const D = deno();
    const defs: Record<string, { parameters: string[]; result: string; nonblocking?: boolean; name?: string }> = {};
    for (const [name, s] of Object.entries(symbols)) {
      const parameters = s.parameters.map((t) => TYPE[t]);
      defs[name] = { parameters, result: TYPE[s.result] };
      defs[`${name}$nb`] = { name, parameters, result: TYPE[s.result], nonblocking: true };
    }
    const lib = permission(`Deno.dlopen("${library}")`, () => D.dlopen(library, defs));
    const fns = lib.symbols;
    return {
      call: (symbol, args) => toNumber(fns[symbol](...args)),
      callPointer: (symbol, args) => fns[symbol](...args),
      callAsync: (symbol, args) => (fns[`${symbol}$nb`](...args) as Promise<unknown>).then(toNumber),
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
};

/**
 * A native (OS) futex bound through Deno FFI: process-private by default, or cross-process with
 * `{ crossProcess: true }` for words in shared memory. Throws FfiPermissionError without
 * `--allow-ffi` and UnsupportedPlatformError on an OS/architecture the table lacks.
 *
 * @example
 * ```ts
 * import { Mutex } from "@futex/sync";
 * import { nativeFutex } from "@futex/sync/deno";
 * const m = new Mutex({ futex: nativeFutex() }); // shared with workers through m.handle
 * ```
 */
export function nativeFutex(options?: NativeFutexOptions): NativeFutex {
  return bindNativeFutex(denoBackend, options);
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
 * import { openSharedRegion } from "@futex/sync/deno";
 * const region = openSharedRegion("/demo", 64, { create: true });
 * region.close();
 * region.unlink();
 * ```
 */
export function openSharedRegion(name: string, byteLength: number, options?: SharedRegionOptions): SharedRegion {
  return openRegionWith(denoBackend, name, byteLength, options);
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
 * import { createSealedRegion } from "@futex/sync/deno";
 * using region = createSealedRegion(4096);
 * const m = new Mutex({ buffer: region.buffer, byteOffset: 0, futex: region.futex });
 * console.log(region.path); // another process: openSealedRegion(path, 4096)
 * ```
 */
export function createSealedRegion(byteLength: number, options?: SealedRegionOptions): SealedRegion {
  return createSealedRegionWith(denoBackend, byteLength, options);
}

/**
 * Open a sealed region by the `path` its holder gave (Linux), checking that the seals are there
 * (SharedRegionPermissionError if not) and that it has at least `byteLength` bytes.
 *
 * @example
 * ```ts
 * import { Mutex } from "@futex/sync";
 * import { openSealedRegion } from "@futex/sync/deno";
 * const path = "/proc/1234/fd/7"; // the holder's region.path
 * using region = openSealedRegion(path, 4096);
 * const m = Mutex.from({ buffer: region.buffer, byteOffset: 0 }, { futex: region.futex });
 * ```
 */
export function openSealedRegion(path: string, byteLength: number, options?: SealedRegionOptions): SealedRegion {
  return openSealedRegionWith(denoBackend, path, byteLength, options);
}

/** Remove a region's name (`shm_unlink`); false if there was none. */
export function unlinkSharedRegion(name: string): boolean {
  return unlinkRegionWith(denoBackend, name);
}

export * from "./exports.ts";
