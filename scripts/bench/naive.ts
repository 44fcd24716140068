/**
 * The hand-written baselines the contended benchmarks compare against, written once for
 * scripts/bench/worker.ts (the suite) and scripts/bench/ab.ts (A/B of two builds):
 *
 *   naive mutex      Drepper's "mutex 2" (Futexes Are Tricky): 0 free, 1 locked, 2 locked with
 *                    possible sleepers; no spinning
 *   naive semaphore  a count; acquire CASes it down or sleeps while it is 0; release adds one
 *                    and notifies every time
 *
 * Every wait is bounded: `stalled(what)` is called (and must throw) when one times out.
 */

/** Counters the caller reads: sleeps (`Atomics.wait` calls) and wake (`notify`) calls. */
export interface NaiveCounts {
  sleeps: number;
  wakes: number;
}

/** The four baseline operations on words of `i32`. */
export interface Naive {
  lock(index: number): void;
  unlock(index: number): void;
  acquire(index: number): void;
  release(index: number): void;
  readonly counts: NaiveCounts;
}

/** Baselines on `i32`; a wait longer than `limitMs` calls `stalled`. */
export function naive(i32: Int32Array, limitMs: number, stalled: (what: string) => never): Naive {
  const counts: NaiveCounts = { sleeps: 0, wakes: 0 };
  return {
    counts,
    lock(index: number): void {
      let c = Atomics.compareExchange(i32, index, 0, 1);
      if (c === 0) return;
      if (c !== 2) c = Atomics.exchange(i32, index, 2);
      while (c !== 0) {
        counts.sleeps++;
        if (Atomics.wait(i32, index, 2, limitMs) === "timed-out") stalled("naive mutex");
        c = Atomics.exchange(i32, index, 2);
      }
    },
    unlock(index: number): void {
      if (Atomics.sub(i32, index, 1) !== 1) {
        Atomics.store(i32, index, 0);
        counts.wakes++;
        Atomics.notify(i32, index, 1);
      }
    },
    acquire(index: number): void {
      for (;;) {
        let c = Atomics.load(i32, index);
        while (c > 0) {
          const seen = Atomics.compareExchange(i32, index, c, c - 1);
          if (seen === c) return;
          c = seen;
        }
        counts.sleeps++;
        if (Atomics.wait(i32, index, 0, limitMs) === "timed-out") stalled("naive semaphore");
      }
    },
    release(index: number): void {
      Atomics.add(i32, index, 1);
      counts.wakes++;
      Atomics.notify(i32, index, 1);
    },
  };
}
