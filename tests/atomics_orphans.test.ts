/**
 * The Atomics futex's orphans (adapters/atomics.ts), on the engine's own Atomics.waitAsync: an
 * aborted async wait settles at once and leaves its engine wait behind. If that orphan takes a
 * wake it passes exactly one on; if it times out it passes none; while this thread has an orphan
 * on a word, a blocking wait there sleeps in short slices (the orphan cannot pass a wake on while
 * its thread is blocked), and once the orphan settled it sleeps whole again; the keep-alive hold
 * is released at the abort, not when the orphan settles. Every wake here leaves the word
 * unchanged, so which waiter a wake reached is visible.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { atomicsFutex } from "../adapters/atomics.ts";
import { keepAliveCount } from "../adapters/keepalive.ts";
import { tick } from "./support/runtime.ts";

/** Which of `ps` have settled within `ms`, and how. */
async function settledOf<T>(ps: Promise<T>[], ms = 0): Promise<(T | "pending")[]> {
  const late = tick(ms).then(() => "pending" as const);
  return await Promise.all(ps.map((p) => Promise.race([p, late])));
}

/** A word, and an orphan on it: an async wait aborted at once (its engine wait stays queued). */
async function orphaned(timeoutMs?: number): Promise<Int32Array> {
  const view = new Int32Array(new SharedArrayBuffer(8));
  const ac = new AbortController();
  const p = atomicsFutex.waitAsync(view, 1, 0, timeoutMs, ac.signal);
  ac.abort();
  assert.equal(await p, "ok", "an aborted wait settles \"ok\" at once");
  return view;
}

test("an orphan that took a wake passes exactly one on: the next waiter of the word wakes, the one after it sleeps on", { timeout: 20_000 }, async () => {
  const view = new Int32Array(new SharedArrayBuffer(8));
  const ac = new AbortController();
  const a = atomicsFutex.waitAsync(view, 1, 0, undefined, ac.signal);
  const b = atomicsFutex.waitAsync(view, 1, 0, 5000);
  const c = atomicsFutex.waitAsync(view, 1, 0, 5000);
  assert.equal(Atomics.notify(view, 1, 1), 1, "the oldest engine wait (a's) takes the wake");
  ac.abort(); // before a's engine promise is delivered: a leaves, its engine wait has the wake
  assert.equal(await a, "ok");
  assert.deepEqual(await settledOf([b, c], 100), ["ok", "pending"], "one wake passed on, to the next waiter only");
  assert.equal(Atomics.notify(view, 1, 1), 1, "c still asleep in the engine");
  assert.equal(await c, "ok");
  assert.equal(keepAliveCount(), 0);
});

test("an orphan that timed out passes no wake on", { timeout: 20_000 }, async () => {
  const view = await orphaned(20);
  const b = atomicsFutex.waitAsync(view, 1, 0, 5000);
  assert.deepEqual(await settledOf([b], 150), ["pending"], "the orphan's timeout woke nobody");
  Atomics.notify(view, 1, 1);
  assert.equal(await b, "ok");
});

test("a blocking wait beside an orphan of this thread sleeps in slices: a spurious \"ok\" long before its timeout, never an early \"timed-out\"", { timeout: 20_000 }, () => {
  return orphaned().then((view) => {
    const t0 = performance.now();
    const r = atomicsFutex.wait(view, 1, 0, 1000);
    const ms = performance.now() - t0;
    assert.equal(r, "ok", `wait(1000 ms) beside an orphan: ${r} after ${ms.toFixed(0)} ms`);
    assert.ok(ms < 500, `the slice lasted ${ms.toFixed(0)} ms`);
    const t1 = performance.now();
    assert.equal(atomicsFutex.wait(view, 1, 0, 5), "timed-out", "a timeout shorter than a slice is the caller's own");
    assert.ok(performance.now() - t1 >= 4);
    Atomics.notify(view, 1, 1); // the orphan takes it and passes it on to nobody
  });
});

test("once its orphan has settled, a blocking wait on the word sleeps its whole timeout again", { timeout: 20_000 }, async () => {
  const view = await orphaned();
  assert.equal(Atomics.notify(view, 1, 1), 1, "the orphan takes a wake …");
  await tick(20); // … and settles (it passes the wake on: nobody else waits)
  const t0 = performance.now();
  const r = atomicsFutex.wait(view, 1, 0, 120);
  const ms = performance.now() - t0;
  assert.equal(r, "timed-out", `no orphan left, yet wait(120 ms) returned ${r} after ${ms.toFixed(0)} ms`);
  assert.ok(ms >= 110, `it slept ${ms.toFixed(0)} ms`);
});

test("an aborted async wait releases its keep-alive hold at once, though its orphan is still in the engine's queue", { timeout: 20_000 }, async () => {
  assert.equal(keepAliveCount(), 0);
  const view = new Int32Array(new SharedArrayBuffer(8));
  const ac = new AbortController();
  const p = atomicsFutex.waitAsync(view, 1, 0, undefined, ac.signal);
  assert.equal(keepAliveCount(), 1, "a pending async wait holds the process");
  ac.abort();
  assert.equal(await p, "ok");
  assert.equal(keepAliveCount(), 0, "the orphan holds nothing: a process may exit with it queued");
  assert.equal(Atomics.notify(view, 1, 1), 1, "the orphan was still queued");
  await tick(10);
  assert.equal(keepAliveCount(), 0);
});
