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
  type Futex,
  type FutexDomain,
  type OwnerLiveness,
  getDefaultFutex,
  monotonicNow,
  remainingMs,
  setDefaultFutex,
  type WaitResult,
} from "./core/futex.ts";
export { BACKOFF_CAP, DEFAULT_SPINS, hasAtomicsPause, spinBackoff, spinWhileEqual } from "./core/spin.ts";
export type { Placement, RegionRef, WordHandle } from "./core/word.ts";
export type { AsyncWaitOptions, CommonOptions } from "./core/primitive.ts";
export { DeadlockError, NotHeldError, NotRecoverableError, OwnerDiedError } from "./core/errors.ts";
export {
  EV_BUSY,
  EV_FREE,
  EV_SET,
  ManualResetEvent,
  type ManualResetEventOptions,
} from "./core/event.ts";
export { keepAliveCount } from "./adapters/keepalive.ts";
export {
  LOCKCNT_COUNT_STEP,
  LOCKCNT_FREE,
  LOCKCNT_LOCKED,
  LOCKCNT_MAX_COUNT,
  LOCKCNT_STATE_MASK,
  LOCKCNT_WAITING,
  LockCnt,
  type LockCntOptions,
} from "./core/lockcnt.ts";
export { Mutex, MUTEX_CONTENDED, MUTEX_LOCKED, MUTEX_UNLOCKED, MutexGuard, type MutexOptions, type WithLockOptions } from "./core/mutex.ts";
export { ROBUST_NOT_RECOVERABLE, ROBUST_OWNER_DIED, ROBUST_TID_MASK, ROBUST_WAITERS } from "./core/robust.ts";
export {
  Semaphore,
  SEMAPHORE_DEFAULT_SPINS,
  SEMAPHORE_MAX,
  SEMAPHORE_WAITERS,
  type SemaphoreHandle,
  type SemaphoreOptions,
} from "./core/semaphore.ts";
export { Condition, type ConditionOptions } from "./core/condition.ts";
export {
  RW_MASK,
  RW_MAX_READERS,
  RW_READ_LOCKED,
  RW_READERS_WAITING,
  RW_WRITE_LOCKED,
  RW_WRITERS_WAITING,
  RwLock,
  RwLockGuard,
  type RwLockOptions,
} from "./core/rwlock.ts";
export { BrokenBarrierError } from "./core/errors.ts";
export {
  Barrier,
  BARRIER_BROKEN,
  BARRIER_GENERATION_MASK,
  BARRIER_MAX_PARTIES,
  type BarrierHandle,
  type BarrierOptions,
  type BarrierWaitResult,
} from "./core/barrier.ts";
export { Latch, LATCH_MAX, LATCH_WAITERS, type LatchOptions } from "./core/latch.ts";
export { Once, ONCE_COMPLETE, ONCE_INCOMPLETE, ONCE_QUEUED, ONCE_RUNNING, type OnceOptions } from "./core/once.ts";
export {
  ARE_MAX_WAITERS,
  ARE_SET,
  ARE_SETS_MASK,
  ARE_UNSET,
  ARE_WAITER,
  AutoResetEvent,
  type AutoResetEventOptions,
} from "./core/autoreset.ts";
export { SemaphoreGuard } from "./core/semaphore.ts";
