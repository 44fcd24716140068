/**
 * Shared-memory layout and job shape of the benchmarks (scripts/bench/suite.ts and its workers).
 * Words 0–2 of the SharedArrayBuffer are the start line; each job group gets a block after it.
 */

/** workerData of a benchmark worker (scripts/bench/worker.ts). */
export interface BenchJob {
  kind: "pingpong" | "lock" | "sem";
  mode: string;
  /** pingpong: "ping" | "pong"; sem: "producer" | "consumer"; lock: the worker's index. */
  side: string;
  sab: SharedArrayBuffer;
  /** Byte offset of this job's block in `sab` (each pair of an oversubscribed run has its own). */
  base: number;
  /** Spin count for the library's primitives (undefined: the default policy). */
  spin?: number;
  /** pingpong: round trips; sem: items moved. Lock jobs run until STOP. */
  rounds: number;
  /** lock/v8 only: a V8 `Atomics.Mutex` (Node with --harmony-struct). */
  mutex?: unknown;
}

/** Start line (byte offsets in the SAB): set GO to start every worker, STOP to end lock jobs. */
export const GO = 0, STOP = 4, READY = 8;
/** First job block, and the size of each (words on separate cache lines). */
export const FIRST_BLOCK = 64, BLOCK_BYTES = 512;
/** Offsets inside a block. */
export const W_A = 0, W_B = 64, EV_A = 128, EV_B = 192, LOCK = 256, COUNTER = 320, SEM_ITEMS = 384, SEM_SLOTS = 448;
/** Semaphore benchmark: slots of the bounded buffer between producer and consumer. */
export const SEM_CAPACITY = 64;
