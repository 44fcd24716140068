/**
 * The errors native futexes throw, each naming what to do.
 *
 * @module
 */

/** Thrown by a wait or wake on a closed native futex or shared region. */
export class FutexClosedError extends Error {
  /** Always "FutexClosedError". */
  override name = "FutexClosedError";
}

/** Thrown when the runtime refuses FFI (Deno without `--allow-ffi`); the message names the flag. */
export class FfiPermissionError extends Error {
  /** Always "FfiPermissionError". */
  override name = "FfiPermissionError";
}

/** Thrown when no table row matches this OS and architecture; the message lists what is supported. */
export class UnsupportedPlatformError extends Error {
  /** Always "UnsupportedPlatformError". */
  override name = "UnsupportedPlatformError";
}

/**
 * Thrown when a shared region is not safely this process's: owned by another user, writable by
 * group or others, not a regular file, or (sealed regions) missing its seals. The message names
 * the owner uid, the mode in octal, and what to do (`{ allowForeign: true }` where that applies).
 */
export class SharedRegionPermissionError extends Error {
  /** Always "SharedRegionPermissionError". */
  override name = "SharedRegionPermissionError";
}
