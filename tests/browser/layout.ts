/**
 * Shared-memory layout of the browser-only roles (tests/browser/browser_roles.ts) and the page
 * that drives them (tests/browser/page.ts). Slots are Int32 indices, each on its own 64-byte line.
 */

export const B = {
  WORD: 0, // the primitive's word (byte offset 0)
  PLAIN: 32, // counter bumped with plain writes inside critical sections
  ATOMIC: 48, // the same count kept atomically
  INSECT: 64, // in-section flag (exchange-based overlap check)
  PRODUCED: 112, // "the worker is ready" / progress
  GO: 160, // the page's go-ahead
  WORDS: 256, // further primitives' words: WORDS + 16*k (byte offset 4*(WORDS + 16*k))
} as const;

/** Byte offset of further word `k`. */
export function wordOffset(k: number): number {
  return 4 * (B.WORDS + 16 * k);
}

/** Bytes for 32 further words. */
export const BROWSER_BYTES: number = wordOffset(32);
