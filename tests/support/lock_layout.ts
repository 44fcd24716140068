/** Shared-memory layout of the lock scenarios (tests/lock_scenarios.test.ts and its workers). */

/** Slots (Int32 indices) shared with tests/lock_scenarios.test.ts. */
export const L = {
  PRIM: 0, // the primitive's word (byte offset 0)
  HEAD: 16, // S9: MCS queue tail (-1 = empty)
  PLAIN: 32, // counter bumped with plain (non-atomic) writes inside critical sections
  ATOMIC: 48, // the same count kept atomically
  INSECT: 64, // in-section flag (exchange-based overlap check)
  VALID: 80, // S10: 1 while the protected object is allocated
  FREES: 96, // S10: frees done
  PRODUCED: 112, // S13
  CONSUMED: 128, // S13
  OPS: 144, // operations completed, all workers (progress for the stall watchdog)
  NODES: 256, // S9: node i at NODES + 16*i: [next, locked]
} as const;

/** Bytes the layout needs (8 MCS nodes). */
export const LOCK_BYTES: number = 4 * (256 + 16 * 8);
