/**
 * Shared-memory layout of the toolkit scenarios (Barrier, Latch, Once, AutoResetEvent): the
 * barrier and the auto-reset event on their own lines, harness slots, then per-round arrays of
 * latches and Once words (each round uses fresh ones: latches are single-use, a Once completes once).
 */

/** Byte offsets of the primitives driven every round. */
export const BARRIER = 0; // 8 bytes
export const AUTO = 64;

/** Int32 indices of the harness slots. */
export const ARRIVED = 64;
export const LEADERS = 65;
export const PASSED = 66;
export const SETS = 67;
export const DONE = 68;
export const GIVEUPS = 69;
export const DATA = 70;
export const PROGRESS = 71;
/** Workers past their start-up (the start line, so no native wait slice includes a worker's start). */
export const STARTED = 72;
/** PHASE + id: the phase party `id` has reached (plain writes). */
export const PHASE = 80;

/** At most this many rounds of the per-round arrays. */
export const MAX_ROUNDS = 1024;
/** Byte offset of round r's "ready" latch, "go" latch and Once word. */
export const readyLatch = (r: number): number => 1024 + 4 * r;
export const goLatch = (r: number): number => 1024 + 4 * (MAX_ROUNDS + r);
export const onceWord = (r: number): number => 1024 + 4 * (2 * MAX_ROUNDS + r);
/** Int32 indices of round r's Once bookkeeping: fn entries, completed fns, plain data, first-attempt-fails flag. */
export const onceRuns = (r: number): number => 256 + 3 * MAX_ROUNDS + r;
export const onceDone = (r: number): number => 256 + 4 * MAX_ROUNDS + r;
export const onceData = (r: number): number => 256 + 5 * MAX_ROUNDS + r;
export const onceFailed = (r: number): number => 256 + 6 * MAX_ROUNDS + r;

/** Total bytes. */
export const BYTES: number = 1024 + 4 * 7 * MAX_ROUNDS;
