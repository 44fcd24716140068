/**
 * Deterministic interleavings in one thread: run "another thread's" move at an exact point of a
 * protocol — right after this thread's next atomic read of a given word, before its next atomic
 * operation (the window in which a read-then-CAS, read-then-store or read-then-decide races).
 *
 * It works by wrapping `Atomics.load` for one read and restoring it before the move runs (the
 * move may read the word too). A protocol that reads its word through another Atomics operation
 * does not trigger it; the mutants that the tests using it catch show they reach the window.
 */

/** What `afterNextLoad` returns: whether the move ran, and how to disarm it if it has not. */
export interface Armed {
  /** True once the move has run. */
  readonly fired: boolean;
  /** Disarm (restore Atomics.load) if the move has not run yet; safe to call twice. */
  restore(): void;
}

/**
 * Run `move` once, right after the next `Atomics.load` of `view[index]` (any view of the same
 * buffer and byte position) returns — the value that load returns is the one read before the move.
 */
export function afterNextLoad(view: Int32Array, index: number, move: () => void): Armed {
  const real = Atomics.load;
  const buffer = view.buffer;
  const at = view.byteOffset + index * 4;
  let fired = false;
  let armed = true;
  const restore = (): void => {
    if (!armed) return;
    armed = false;
    Atomics.load = real;
  };
  Atomics.load = ((ta: Int32Array, i: number): number => {
    const v = real(ta, i);
    if (armed && ta.buffer === buffer && ta.byteOffset + i * ta.BYTES_PER_ELEMENT === at) {
      restore();
      fired = true;
      move();
    }
    return v;
  }) as typeof Atomics.load;
  return {
    get fired() {
      return fired;
    },
    restore,
  };
}

/** Spin until `ms` milliseconds have passed (a scripted sleep that lasts past a deadline). */
export function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* spin */ }
}
