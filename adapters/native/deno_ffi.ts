/**
 * Native futexes for Deno: binds this host's row of the table with `Deno.dlopen`. Needs
 * `--allow-ffi` (or `-A`). Async waits of a thread share one helper thread per futex flavour
 * (wait_service.ts), which sleeps on up to 127 words at once with futex_waitv.
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

import type { NativeFutex, NativeFutexOptions } from "./bind.ts";
import { bindNativeFutex } from "./bind.ts";
import { denoBackend } from "./deno_backend.ts";
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
