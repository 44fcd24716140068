/**
 * What the runtime entry points (`@futex/sync/deno`, `/bun`, `/node`) export beside their
 * bound `nativeFutex` and region functions: the table, its lookup, the errors and the types.
 *
 * @module
 */

export { FfiPermissionError, FutexClosedError, SharedRegionPermissionError, UnsupportedPlatformError } from "./errors.ts";
export type { NativeFutex, NativeFutexOptions } from "./bind.ts";
export type { SealedRegion, SealedRegionOptions, SharedRegion, SharedRegionOptions } from "./shared_memory.ts";
export {
  type ArgSpec,
  type CallSpec,
  type FlavorSpec,
  type MemorySpec,
  NATIVE_SLICE_MS,
  NATIVE_TABLE,
  type NativeArch,
  type NativeOs,
  type NativeRow,
  type NativeType,
  normalizeArch,
  normalizeOs,
  rowsFor,
  type SealSpec,
  type StatLayout,
  type SymbolSpec,
  type TimeoutEncoding,
  type WaitSpec,
  type WaitvSpec,
} from "./table.ts";
