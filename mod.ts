/**
 * @futex/sync — QEMU's futex-based synchronisation primitives for JavaScript threads.
 *
 * Workers share a `SharedArrayBuffer`; each primitive is one 32-bit word in it, driven by a
 * futex (here `Atomics.wait`/`notify`/`waitAsync`), bit-compatible with QEMU's encodings.
 *
 * @example
 * ```ts
 * import { ManualResetEvent } from "@futex/sync";
 * const ev = new ManualResetEvent();
 * setTimeout(() => ev.set(), 10);
 * await ev.waitAsync({ timeout: 1000 }); // true
 * ```
 *
 * @module
 */

import { atomicsFutex } from "./adapters/atomics.ts";
import { setDefaultFutex } from "./core/futex.ts";

setDefaultFutex(atomicsFutex);

export { atomicsFutex };
export {
  deadlineAfter,
  DEFAULT_SPINS,
  type Futex,
  getDefaultFutex,
  hasAtomicsPause,
  monotonicNow,
  remainingMs,
  setDefaultFutex,
  spinWhileEqual,
  type WaitResult,
} from "./core/futex.ts";
export type { Placement, WordHandle } from "./core/word.ts";
export type { CommonOptions } from "./core/primitive.ts";
export {
  type AsyncWaitOptions,
  EV_BUSY,
  EV_FREE,
  EV_SET,
  ManualResetEvent,
  type ManualResetEventOptions,
} from "./core/event.ts";
export { keepAliveCount } from "./adapters/keepalive.ts";
