/**
 * Shared-memory layout of the event scenarios (S1–S7): one SharedArrayBuffer, events on their
 * own 64-byte lines, and harness slots (rounds, counters, plain data) after them.
 */

/** Byte offset of event `i` (each on its own cache line). */
export function eventOffset(i: number): number {
  return 64 * i;
}

/** Int32 index of harness slot `i` (after 4 event lines). */
export function slot(i: number): number {
  return 64 + i;
}

/** Harness slot names (Int32 indices). */
export const ROUND: number = slot(0);
export const PASSED: number = slot(1);
export const ENTERED: number = slot(2);
export const RETURNED: number = slot(3);
export const STOP: number = slot(4);
export const GO: number = slot(5);
export const DONE: number = slot(6);
export const STAMP: number = slot(7);
export const FLAG: number = slot(8);
export const PING: number = slot(9);
export const PONG: number = slot(10);
/** S1 mailboxes: JOB + i (atomic) and DATA + i (plain writes). */
export const JOB: number = slot(16);
export const DATA: number = slot(32);

/** Total bytes. */
export const BYTES: number = 4 * slot(64);

/** The default harness deadline for one wait inside a scenario (ms). */
export const WAIT_LIMIT_MS = 5000;
