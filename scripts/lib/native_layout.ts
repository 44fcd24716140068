/**
 * Byte layout of the shared region of the cross-process tests and benchmarks, shared by the JS
 * peer (tests/native/peer.ts), the tests and the benchmarks; the C peer (tests/native/peer.c)
 * takes the same offsets on its command line, and its LockCnt block follows the same word order
 * from LC_BASE.
 */

/** Bytes mapped by every process. */
export const REGION_BYTES = 4096;

/** Event ping-pong: two events and the data word the pinger writes before each set. */
export const PING = 0;
export const PONG = 4;
export const DATA = 8;
/** Non-zero tells the C wake storm to stop. */
export const STOP = 12;

/** Start barrier: each peer adds 1 and waits for PEER_PARTIES arrivals (peer.c reads byte 16 too). */
export const READY = 16;

/** LockCnt stress block: byte offset of its first word, then word indexes from there. */
export const LC_BASE = 64;
export const LC = { WORD: 0, INSECT: 1, PLAIN: 2, ATOMIC: 3, VALID: 4, FREES: 5, PROGRESS: 6 } as const;

/**
 * Robust Mutex block (tests/robust_interop.test.ts): the 8-byte robust mutex (word, owner pid),
 * then a plain counter only the mutex protects and an "inside" flag that catches two holders.
 */
export const ROBUST = 128;
export const ROBUST_COUNTER = 136;
export const ROBUST_INSIDE = 140;
