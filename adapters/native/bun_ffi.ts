/**
 * Native futexes for Bun: binds this host's row of the table with `bun:ffi`. Async waits of a
 * thread share one unref'd helper thread per futex flavour (wait_service.ts), which sleeps on up
 * to 127 words at once with futex_waitv.
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

import type { NativeFutex, NativeFutexOptions } from "./bind.ts";
import { bindNativeFutex } from "./bind.ts";
import { bunBackend } from "./bun_backend.ts";
import { openRegionWith, type SharedRegion, type SharedRegionOptions, unlinkRegionWith } from "./shared_memory.ts";

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

/** Remove a region's name (`shm_unlink`); false if there was none. */
export function unlinkSharedRegion(name: string): boolean {
  return unlinkRegionWith(bunBackend, name);
}

export * from "./exports.ts";
