/**
 * The Atomics futex's orphans (adapters/atomics.ts) are keyed by the word's byte position in its
 * buffer, whatever view names it: an aborted async wait leaves an orphan in the engine's queue,
 * and a blocking wait of this thread on the same word must then sleep in short slices (the orphan
 * cannot forward a wake while its thread is blocked). Here the orphan is made through a view at a
 * nonzero byteOffset and the blocking wait names the same word through another view (offset 0,
 * a higher index); a worker's one wake goes to the orphan, first in line. Keyed without the
 * view's byteOffset, the two would not meet: the blocking wait would sleep until its timeout.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { atomicsFutex, Mutex } from "../mod.ts";
import { testScript, tick, until } from "./support/runtime.ts";

const TIMEOUT_MS = 4000;

async function orphanThenBlock(orphanView: Int32Array, orphanIndex: number, blockView: Int32Array, blockIndex: number, sab: SharedArrayBuffer, wordIndex: number): Promise<number> {
  const ac = new AbortController();
  const pending = atomicsFutex.waitAsync(orphanView, orphanIndex, 0, TIMEOUT_MS, ac.signal);
  ac.abort();
  assert.equal(await pending, "ok", "an aborted wait settles at once");
  const ready = 15; // the last word of the buffer: the worker's ready flag
  const w = new Worker(testScript("workers/store_wake_later"), {
    workerData: { sab, index: wordIndex, value: 1, delayMs: 100, count: 1, readyIndex: ready },
  });
  try {
    await until("the worker started", () => Atomics.load(new Int32Array(sab), ready) === 1);
    const t0 = performance.now();
    let r: string;
    do r = atomicsFutex.wait(blockView, blockIndex, 0, TIMEOUT_MS); // "ok" per slice: re-check, as the contract says
    while (r === "ok" && Atomics.load(blockView, blockIndex) === 0 && performance.now() - t0 < TIMEOUT_MS);
    const ms = performance.now() - t0;
    assert.equal(Atomics.load(blockView, blockIndex), 1, "the worker stored 1");
    return ms;
  } finally {
    await tick(10); // the orphan forwards its wake once this thread runs again
    await w.terminate();
  }
}

test("an orphan made through a view at byteOffset 8 slices a blocking wait on the same word named through another view", { timeout: 20_000 }, async () => {
  const sab = new SharedArrayBuffer(64);
  const ms = await orphanThenBlock(new Int32Array(sab, 8, 4), 0, new Int32Array(sab), 2, sab, 2);
  assert.ok(ms < 1500, `the blocking wait saw the worker's store only after ${ms.toFixed(0)} ms (no slices: the orphan was not found)`);
});

test("the same through a primitive placed at a nonzero byteOffset: an aborted lockAsync, then a blocking lock", { timeout: 20_000 }, async () => {
  const sab = new SharedArrayBuffer(64);
  const i32 = new Int32Array(sab);
  const m = new Mutex({ buffer: sab, byteOffset: 12, spin: 0 });
  Atomics.store(i32, 3, 1); // another thread holds it
  const ac = new AbortController();
  const p = m.lockAsync({ signal: ac.signal });
  await tick(5);
  ac.abort(new Error("gone"));
  await assert.rejects(p, /gone/);
  assert.equal(Atomics.load(i32, 3), 2, "the aborted locker marked the word CONTENDED");
  // The holder's unlock of a CONTENDED word: store 0 and wake one — the orphan, first in line.
  const w = new Worker(testScript("workers/store_wake_later"), {
    workerData: { sab, index: 3, value: 0, delayMs: 100, count: 1, readyIndex: 15 },
  });
  try {
    await until("the worker started", () => Atomics.load(i32, 15) === 1);
    const t0 = performance.now();
    assert.equal(m.lock(TIMEOUT_MS), true);
    const ms = performance.now() - t0;
    assert.ok(ms < 1500, `lock() got the lock only after ${ms.toFixed(0)} ms: its sleep was not sliced beside this thread's orphan`);
    m.unlock();
  } finally {
    await tick(10);
    await w.terminate();
  }
});
