/**
 * The spin helpers (core/spin.ts): what they return, that a change made by another thread ends
 * them, that a budget bounds them, and that the primitives refuse a bad `spin`. Whether a spin
 * *pays* is a benchmark question (docs/benchmarks.md), never asserted here.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { BACKOFF_CAP, DEFAULT_SPINS, ManualResetEvent, Mutex, Semaphore, SEMAPHORE_DEFAULT_SPINS, spinBackoff, spinWhileEqual } from "../mod.ts";
import { testScript } from "./support/runtime.ts";

const HOLD_MS = 30;
/** Large enough to outlast HOLD_MS in every runtime (a tight check is ~1 ns where there is no Atomics.pause). */
const HUGE = 2_000_000_000;

function releaseLater(kind: "Mutex" | "ManualResetEvent", handle: unknown): { worker: Worker; held: Promise<void>; done: Promise<void> } {
  const worker = new Worker(testScript("workers/release_later"), { workerData: { kind, handle, holdMs: HOLD_MS } });
  let heldResolve!: () => void;
  const held = new Promise<void>((r) => (heldResolve = r));
  const done = new Promise<void>((resolve, reject) => {
    worker.on("message", (m: { held?: boolean; released?: number }) => {
      if (m.held) heldResolve();
      if (m.released !== undefined) resolve();
    });
    worker.on("error", reject);
  });
  return { worker, held, done };
}

test("spinWhileEqual / spinBackoff: an unchanged word comes back as seen; a zero budget checks nothing", { timeout: 30_000 }, () => {
  const view = new Int32Array(new SharedArrayBuffer(8));
  view[0] = 7;
  assert.equal(spinWhileEqual(view, 0, 7, 100), 7);
  assert.equal(spinBackoff(view, 0, 7, 100), 7);
  assert.equal(spinWhileEqual(view, 0, 7, 0), 7);
  assert.equal(spinBackoff(view, 0, 7, 0), 7);
  // A word that already differs: the first check returns it (index 1 is 0, "seen" says 5).
  assert.equal(spinWhileEqual(view, 1, 5, 10), 0);
  assert.equal(spinBackoff(view, 1, 5, 10), 0);
  assert.equal(DEFAULT_SPINS, 1000);
  assert.equal(BACKOFF_CAP, 64);
  assert.equal(SEMAPHORE_DEFAULT_SPINS, 0); // the Semaphore spins only when asked
  const s = new Semaphore(0, { spin: 500 });
  assert.equal(s.acquire(1), false); // a spinning acquire still times out
  assert.equal(Semaphore.from(s.handle, { spin: 0 }).acquire(1), false);
});

test("spinBackoff: a budget bounds the spin (2000 units on an unchanged word end well within 200 ms)", { timeout: 30_000 }, () => {
  const view = new Int32Array(new SharedArrayBuffer(4));
  view[0] = 1;
  const t0 = performance.now();
  for (let k = 0; k < 5; k++) assert.equal(spinBackoff(view, 0, 1, 2000), 1);
  const each = (performance.now() - t0) / 5;
  assert.ok(each < 200, `one 2000-unit backoff spin took ${each.toFixed(1)} ms`);
});

// A change made by another thread ends the spin with the new value, long before the budget:
// a Mutex's unlock (1 → 0) for the lock spin, an event's set (FREE 1 → SET 0) for the tight one.
for (
  const [name, kind, spin] of [
    ["spinBackoff: another thread's unlock", "Mutex", spinBackoff],
    ["spinWhileEqual: another thread's set", "ManualResetEvent", spinWhileEqual],
  ] as const
) {
  test(`${name} ends the spin with the new value (0), long before the budget`, { timeout: 30_000 }, async () => {
    const p = kind === "Mutex" ? new Mutex() : new ManualResetEvent();
    const r = releaseLater(kind, p.handle);
    try {
      await r.held;
      const view = new Int32Array(p.handle.buffer, p.handle.byteOffset, 1);
      const t0 = performance.now();
      const seen = spin(view, 0, 1, HUGE); // 1 (locked / FREE) until the worker releases it
      const ms = performance.now() - t0;
      assert.equal(seen, 0, "the spin ended on the release");
      assert.ok(ms < 10_000, `the spin outlasted the release by far (${ms.toFixed(0)} ms)`);
      await r.done;
    } finally {
      await r.worker.terminate();
    }
  });
}

test("spin: every primitive refuses a budget that is not a whole number ≥ 0, naming the unit", { timeout: 30_000 }, () => {
  for (const bad of [-1, 1.5, Number.NaN]) {
    assert.throws(() => new Mutex({ spin: bad }), (e: Error) => e instanceof RangeError && /pause units/.test(e.message));
  }
  assert.throws(() => new ManualResetEvent({ spin: "10" as unknown as number }), /spin/);
});
