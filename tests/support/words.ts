/** A primitive's words seen from its handle, for tests that read or set them by hand. */

/** The `i`-th 32-bit word at the handle's placement (0: the word itself; 1: a RwLock's notify word). */
export function wordView(h: { buffer: ArrayBuffer | SharedArrayBuffer; byteOffset: number }, i = 0): Int32Array {
  return new Int32Array(h.buffer, h.byteOffset + 4 * i, 1);
}
