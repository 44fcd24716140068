/** Statistics shared by the benchmarks and the demo. */

/**
 * The median of `xs`: the middle sample of an odd count, the mean of the two middle samples of
 * an even count; NaN for an empty list. Does not reorder `xs`.
 */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
