/** Shared-memory layout and job shape of the Condition and RwLock benchmarks (scripts/bench/toolkit.ts). */

/** workerData of a toolkit benchmark worker. */
export interface ToolkitJob {
  kind: "cond" | "rw";
  mode: string;
  /** cond: "ping" | "pong"; rw: "reader" | "writer". */
  side: string;
  sab: SharedArrayBuffer;
  rounds: number;
  /** rw: this worker's index (its op counter slot) and the number of workers. */
  index: number;
  workers: number;
  spin?: number;
  /** v8 only: Atomics.Mutex and Atomics.Condition. */
  mutex?: unknown;
  cond?: unknown;
}

/** Byte offsets in the job's SharedArrayBuffer. */
export const T = { GO: 0, STOP: 4, READY: 8, MUTEX: 64, COND: 128, TURN: 192, RW: 256, DATA: 512, OPS: 512 + 4 * 1024 } as const;
/** Bytes the jobs need: the op counters of up to 8 workers, one cache line each. */
export const TOOLKIT_BYTES = T.OPS + 8 * 64;
/** Words in the RwLock benchmark's record. */
export const RECORD_WORDS = 1024;
