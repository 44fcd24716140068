/**
 * Named shared memory for cross-process primitives: `shm_open` + `ftruncate` + `mmap(MAP_SHARED)`
 * through the row's memory calls (table.ts), runtime-neutral like bind.ts. A region gives a plain
 * ArrayBuffer over the mapping (no runtime can wrap foreign memory in a SharedArrayBuffer, so
 * `Atomics.wait` refuses it) and the cross-process native futex that every primitive placed in it
 * must use. Other processes — Deno, Bun, or C calling `shm_open` on the same name, or mapping
 * `/dev/shm/<name>` on Linux — see the same bytes.
 *
 * Closing detaches the buffer first (later access throws instead of reading unmapped memory),
 * rejects pending async waits, then unmaps.
 *
 * @module
 */

import { type FfiBackend, type FfiLibrary, bindNativeFutex, type NativeFutex, openRow } from "./bind.ts";
import type { MemorySpec, SymbolSpec } from "./table.ts";
import { registerMapping, releaseMapping } from "../../core/word.ts";

/** How to open a region. */
export interface SharedRegionOptions {
  /** Create the region if it does not exist (default false: it must exist). */
  create?: boolean;
  /** With `create`: fail if it already exists (default false). */
  exclusive?: boolean;
  /** The region futex's OS wait slice in milliseconds (see NativeFutexOptions.sliceMs). */
  sliceMs?: number;
}

/** A mapped shared-memory region and the futex for words placed in it. */
export interface SharedRegion {
  /** The POSIX name, with its leading slash ("/my-region"). */
  readonly name: string;
  /** Mapped length in bytes. */
  readonly byteLength: number;
  /** A plain ArrayBuffer over the mapping: place primitives in it with `{ buffer, byteOffset, futex }`. */
  readonly buffer: ArrayBuffer;
  /** The cross-process native futex to pass as `futex` to every primitive in this region. */
  readonly futex: NativeFutex;
  /** True after {@link SharedRegion.close}. */
  readonly closed: boolean;
  /** Unmap: the buffer is detached, pending async waits reject with FutexClosedError. Idempotent. */
  close(): void;
  /** Remove the name (processes that mapped it keep their mapping). Missing names are ignored. */
  unlink(): void;
  /** `using region = …` closes it. */
  [Symbol.dispose](): void;
}

const MEMORY_EXTRA: Readonly<Record<string, SymbolSpec>> = {
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
};
const SEEK_END = 2;
const ERRNO_SYMBOL: Record<string, string> = {
  linux: "__errno_location",
  darwin: "__error",
  freebsd: "__error",
  openbsd: "__errno",
};
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM",
  2: "ENOENT (no such region: create it first, or pass { create: true })",
  12: "ENOMEM",
  13: "EACCES (permission denied)",
  17: "EEXIST (it already exists: drop { exclusive: true } to open it)",
  22: "EINVAL",
  24: "EMFILE (too many open files)",
  28: "ENOSPC (no space left in /dev/shm)",
  36: "ENAMETOOLONG",
};

interface MemoryLib {
  lib: FfiLibrary;
  spec: MemorySpec;
  errno: (() => number) | undefined;
}

const memoryLibs = new WeakMap<FfiBackend, MemoryLib>();

function memoryLib(backend: FfiBackend): MemoryLib {
  const hit = memoryLibs.get(backend);
  if (hit) return hit;
  const { row } = openRow(backend);
  if (!row.memory) {
    throw new TypeError(`openSharedRegion: no cross-process shared memory on ${row.os}. ${row.noSharedReason ?? ""}`);
  }
  const errnoName = ERRNO_SYMBOL[row.os];
  const symbols: Record<string, SymbolSpec> = { ...row.memory.symbols, ...MEMORY_EXTRA };
  if (errnoName) symbols[errnoName] = { parameters: [], result: "pointer" };
  const lib = backend.open(row.memory.library, symbols);
  const errno = errnoName
    ? (): number => new Int32Array(backend.bufferAt(lib.callPointer(errnoName, []), 4))[0]
    : undefined;
  const m = { lib, spec: row.memory, errno };
  memoryLibs.set(backend, m);
  return m;
}

function cString(backend: FfiBackend, s: string): { bytes: Uint8Array; ptr: unknown } {
  const encoded = new TextEncoder().encode(s);
  const bytes = new Uint8Array(new SharedArrayBuffer(encoded.length + 1)); // shared: never moved by the GC
  bytes.set(encoded);
  return { bytes, ptr: backend.pointerTo(bytes, 0) };
}

function checkName(name: unknown): string {
  if (typeof name !== "string") {
    throw new TypeError(`openSharedRegion: name must be a string like "/my-region" (got ${name === null ? "null" : typeof name})`);
  }
  const n = name.startsWith("/") ? name : `/${name}`;
  if (n.length < 2 || n.length > 250 || n.indexOf("/", 1) !== -1 || n.includes("\0")) {
    throw new TypeError(
      `openSharedRegion: name ${JSON.stringify(name)} must be 1–249 characters without "/" or NUL after an optional leading "/"`,
    );
  }
  return n;
}

function checkLength(byteLength: unknown): number {
  if (typeof byteLength !== "number" || !Number.isInteger(byteLength) || byteLength < 4 || byteLength % 4 !== 0 || byteLength > 2 ** 30) {
    throw new RangeError(
      `openSharedRegion: byteLength ${String(byteLength)} must be a whole multiple of 4 between 4 and 2^30 (one 32-bit word per primitive)`,
    );
  }
  return byteLength;
}

/**
 * Open (and optionally create) a named shared-memory region of `byteLength` bytes.
 * Runtime-neutral: deno_ffi.ts and bun_ffi.ts export it bound to their backend.
 */
export function openRegionWith(backend: FfiBackend, name: unknown, byteLength: unknown, options: SharedRegionOptions = {}): SharedRegion {
  const n = checkName(name);
  const len = checkLength(byteLength);
  if (options === null || typeof options !== "object") {
    throw new TypeError("openSharedRegion: options must be an object like { create: true }");
  }
  const create = options.create ?? false;
  const exclusive = options.exclusive ?? false;
  if (typeof create !== "boolean" || typeof exclusive !== "boolean") {
    throw new TypeError("openSharedRegion: create and exclusive must be true or false");
  }
  if (exclusive && !create) throw new TypeError("openSharedRegion: { exclusive: true } needs { create: true }");
  const futex = bindNativeFutex(backend, { crossProcess: true, sliceMs: options.sliceMs }); // throws the no-cross-process reason first
  const { lib, spec, errno } = memoryLib(backend);
  const cname = cString(backend, n);
  const fail = (what: string): never => {
    const e = errno?.();
    const why = e === undefined ? "" : `: errno ${e} ${ERRNO_NAMES[e] ?? ""}`.trimEnd();
    throw new Error(`openSharedRegion(${JSON.stringify(n)}): ${what} failed${why}`);
  };
  const flags = spec.O_RDWR | (create ? spec.O_CREAT : 0) | (exclusive ? spec.O_EXCL : 0);
  const fd = lib.call("shm_open", [cname.ptr, flags, 0o600]);
  if (fd < 0) fail("shm_open");
  let mapped: unknown;
  try {
    const size = lib.call("lseek", [fd, 0, SEEK_END]);
    if (size < len) {
      if (!create) {
        throw new RangeError(
          `openSharedRegion(${JSON.stringify(n)}): the region has ${size} bytes, fewer than the ${len} asked for; ` +
            "ask for at most its size, or open it with { create: true } to grow it",
        );
      }
      if (lib.call("ftruncate", [fd, len]) !== 0) fail("ftruncate");
    }
    mapped = lib.callPointer("mmap", [null, len, spec.PROT_READ_WRITE, spec.MAP_SHARED, fd, 0]);
    const addr = backend.address(mapped);
    if (addr === 0n || addr === 0xffffffffffffffffn || addr === -1n) fail("mmap");
  } finally {
    lib.call("close", [fd]);
  }
  let buffer = backend.bufferAt(mapped, len);
  registerMapping(buffer, { name: n, byteLength: len }); // primitives accept this buffer, never a copy of it
  let closed = false;
  const region: SharedRegion = {
    name: n,
    byteLength: len,
    get buffer(): ArrayBuffer {
      return buffer;
    },
    futex,
    get closed(): boolean {
      return closed;
    },
    close(): void {
      if (closed) return;
      closed = true;
      futex.close();
      // Detach our buffer so a stale view throws a TypeError instead of touching unmapped memory.
      const b = buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
      if (typeof b.transfer === "function") buffer = b.transfer(0);
      lib.call("munmap", [mapped, len]);
      releaseMapping(n);
    },
    unlink(): void {
      lib.call("shm_unlink", [cname.ptr]);
    },
    [Symbol.dispose](): void {
      region.close();
    },
  };
  return region;
}

/** Remove a region's name (as `shm_unlink`); returns false if it did not exist. */
export function unlinkRegionWith(backend: FfiBackend, name: unknown): boolean {
  const n = checkName(name);
  const { lib } = memoryLib(backend);
  return lib.call("shm_unlink", [cString(backend, n).ptr]) === 0;
}
