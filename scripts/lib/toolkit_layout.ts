/**
 * Byte layout of the shared region of the toolkit's cross-process tests
 * (tests/native_toolkit.test.ts and its peer tests/native/gate_peer.ts).
 */

export const TK = {
  /** Bytes mapped by every process. */
  BYTES: 8192,
  /** Start line: each peer adds 1 and waits for 2. */
  READY: 0,
  DATA: 4,
  PASSED: 8,
  SETS: 12,
  DONE: 16,
  GIVEUPS: 20,
  /** PHASE + 4·id: the phase each process reached (plain writes). */
  PHASE: 32,
  BARRIER: 64, // 8 bytes
  AUTO: 128,
  /** Per-round words (at most 256 rounds). */
  MAX_ROUNDS: 256,
  latchGo: (r: number): number => 1024 + 4 * r,
  latchAck: (r: number): number => 2048 + 4 * r,
  once: (r: number): number => 3072 + 4 * r,
  onceRuns: (r: number): number => 4096 + 4 * r,
  onceData: (r: number): number => 5120 + 4 * r,
} as const;
