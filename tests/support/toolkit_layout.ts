/**
 * Shared-memory layout of the Condition and RwLock scenarios (tests/condition_rwlock_scenarios.test.ts,
 * tests/workers/toolkit_roles.ts and the cross-process peer tests/native/toolkit_peer.ts). Byte
 * offsets; the same block is used in a SharedArrayBuffer and in a shared region.
 */

/** Bounded buffer on a Mutex and two Conditions. */
export const BB = {
  MUTEX: 0, // Mutex word
  NOT_EMPTY: 4, // Condition: consumers wait here
  NOT_FULL: 8, // Condition: producers wait here
  COUNT: 12, // items in the ring (guarded by the mutex, plain accesses)
  HEAD: 16, // next slot to take
  TAIL: 20, // next slot to fill
  PRODUCED: 24, // items put (atomic, progress)
  CONSUMED: 28, // items taken (atomic, progress)
  SLOTS: 64, // ring of CAP Int32 items
} as const;
/** Ring capacity of the bounded buffer (small, so producers block on NOT_FULL too). */
export const CAP = 4;

/** RwLock torn-write check. */
export const RWL = {
  LOCK: 0, // RwLock: state word, notify word at 4
  WRITER_IN: 8, // 1 while a writer is inside (exchange-checked)
  READERS_IN: 12, // readers inside (atomic count)
  WRITES: 16, // writes done (atomic)
  READS: 20, // reads done (atomic, progress)
  DATA: 64, // DATA_WORDS Int32 words, all equal outside a write
} as const;
/** Words a writer updates one by one (a reader that sees them differ saw a torn write). */
export const DATA_WORDS = 8;

/** Start barrier of the cross-process peers (each adds 1 and waits for PEER_PARTIES). */
export const PEER_READY = 32;
/** Bytes of one block; a region holds the bounded buffer at 0 and the RwLock block at BLOCK_BYTES. */
export const BLOCK_BYTES = 256;
