/**
 * Latch in one thread: exact words and futex calls per transition (the WAITERS bit: no wake
 * when nobody waits), timeouts and aborts, bad input and corrupted words.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { atomicsFutex, keepAliveCount, Latch, LATCH_WAITERS } from "../mod.ts";
import { countingFutex } from "../testing.ts";

const word = (l: Latch): number => Atomics.load(new Int32Array(l.handle.buffer, l.handle.byteOffset, 1), 0);
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("the word is the count; counting to 0 with nobody waiting makes no futex call", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const l = new Latch(3, { futex });
  assert.equal(word(l), 3);
  assert.equal(l.wait(0), false);
  l.countDown();
  assert.equal(word(l), 2);
  l.countDown(2);
  assert.equal(word(l), 0);
  assert.equal(l.count, 0);
  assert.equal(l.wait(), true);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
  assert.equal(new Latch(0).wait(0), true, "a latch at 0 is open");
});

test("a waiter announces WAITERS; countDown keeps it; the opening countDown clears it and wakes all, once", { timeout: 10_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const l = new Latch(2, { futex });
  const a = l.waitAsync();
  const b = Latch.from(l.handle, { futex }).waitAsync({ timeout: 5000 });
  await tick(5);
  assert.equal(word(l), LATCH_WAITERS | 2);
  l.countDown();
  assert.equal(word(l), LATCH_WAITERS | 1);
  assert.equal(futex.calls.wakeAll, 0);
  l.countDown();
  assert.equal(word(l), 0);
  assert.equal(futex.calls.wakeAll, 1);
  assert.equal(futex.calls.wakeOne, 0);
  assert.deepEqual([await a, await b], [true, true]);
  assert.equal(keepAliveCount(), 0);
});

test("a timed wait returns false after its deadline and leaves WAITERS (the opening wake is a broadcast)", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const l = new Latch(1, { futex, spin: 0 });
  const t0 = performance.now();
  assert.equal(l.wait(30), false);
  assert.ok(performance.now() - t0 >= 29);
  assert.equal(word(l), LATCH_WAITERS | 1);
  assert.equal(futex.calls.wakeOne + futex.calls.wakeAll, 0, "a give-up passes nothing on");
  l.countDown();
  assert.equal(word(l), 0);
  assert.equal(futex.calls.wakeAll, 1);
});

test("waitAsync: resolves on opening, false on timeout, rejects on abort", { timeout: 10_000 }, async () => {
  const l = new Latch(1);
  assert.equal(await l.waitAsync({ timeout: 10 }), false);
  const ac = new AbortController();
  const p = l.waitAsync({ signal: ac.signal });
  await tick(3);
  ac.abort(new Error("bye"));
  await assert.rejects(p, /bye/);
  await assert.rejects(l.waitAsync({ signal: AbortSignal.abort() }), (e: Error) => e.name === "AbortError");
  const q = l.waitAsync();
  setTimeout(() => l.countDown(), 5);
  assert.equal(await q, true);
  assert.equal(keepAliveCount(), 0);
});

test("countDown below zero throws RangeError and changes nothing", { timeout: 10_000 }, () => {
  const l = new Latch(2);
  assert.throws(() => l.countDown(3), { name: "RangeError", message: /below zero; nothing changed/ });
  assert.equal(word(l), 2);
  l.countDown(2);
  assert.throws(() => l.countDown(), RangeError);
  assert.equal(word(l), 0);
  const m = new Latch(2);
  assert.throws(() => m.countDown(0), RangeError);
  assert.throws(() => m.countDown(1.5), RangeError);
  assert.throws(() => m.countDown("1" as unknown as number), TypeError);
  assert.throws(() => m.wait(-1), RangeError);
  assert.equal(word(m), 2);
});

test("bad constructor input and corrupted words: clear errors, words left as they are", { timeout: 10_000 }, async () => {
  assert.throws(() => new Latch(-1), { name: "RangeError", message: /count must be a whole number from 0/ });
  assert.throws(() => new Latch(2 ** 31), RangeError);
  assert.throws(() => new Latch(NaN), RangeError);
  assert.throws(() => new Latch("3" as unknown as number), TypeError);
  const sab = new SharedArrayBuffer(4);
  const w = new Int32Array(sab);
  w[0] = LATCH_WAITERS;
  assert.throws(() => Latch.from({ buffer: sab, byteOffset: 0 }), { name: "TypeError", message: /holds -2147483648/ });
  const l = new Latch(1);
  Atomics.store(new Int32Array(l.handle.buffer), 0, LATCH_WAITERS);
  assert.throws(() => l.countDown(), { name: "TypeError", message: /holds -2147483648/ });
  assert.throws(() => l.wait(0), { name: "TypeError", message: /holds -2147483648/ });
  await assert.rejects(l.waitAsync({ timeout: 5 }), TypeError);
  assert.equal(word(l), LATCH_WAITERS);
  const busy = new Latch(2);
  void busy.waitAsync({ timeout: 1 });
  assert.throws(() => new Latch(2, { buffer: busy.handle.buffer }), { name: "TypeError", message: /a latch with waiters/ });
});
