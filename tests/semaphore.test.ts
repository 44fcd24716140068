/**
 * Semaphore: S13's single-thread cases, exact words, futex calls per path, bounds, bad input,
 * and async acquisition that leaks no permit on abort or timeout.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { atomicsFutex, keepAliveCount, Semaphore, SEMAPHORE_MAX, SEMAPHORE_WAITERS } from "../mod.ts";
import { countingFutex } from "../testing.ts";

const word = (s: Semaphore): number => Atomics.load(new Int32Array(s.handle.buffer, s.handle.byteOffset, 1), 0);
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("the word is the count; acquire/release without waiters make no futex call", () => {
  const futex = countingFutex(atomicsFutex);
  const s = new Semaphore(2, { futex });
  assert.equal(word(s), 2);
  assert.equal(s.acquire(), true);
  assert.equal(s.tryAcquire(), true);
  assert.equal(word(s), 0);
  assert.equal(s.tryAcquire(), false);
  s.release();
  s.release(3);
  assert.equal(s.value, 4);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
});

test("acquire(0) on empty returns false at once without marking waiters", () => {
  const futex = countingFutex(atomicsFutex);
  const s = new Semaphore(0, { futex });
  const t0 = performance.now();
  assert.equal(s.acquire(0), false);
  assert.ok(performance.now() - t0 < 1000);
  assert.equal(word(s), 0);
  assert.equal(futex.calls.wait, 0);
});

test("a timed acquire respects its deadline, marks WAITERS, and the next release wakes", () => {
  const futex = countingFutex(atomicsFutex);
  const s = new Semaphore(0, { futex, spin: 0 });
  const t0 = performance.now();
  assert.equal(s.acquire(50), false);
  assert.ok(performance.now() - t0 >= 49, "returned before its deadline");
  assert.equal(word(s), SEMAPHORE_WAITERS);
  assert.equal(s.value, 0);
  s.release();
  assert.equal(word(s), 1, "release clears WAITERS");
  // The timed-out acquirer left the word WAITERS|0, whose next release wakes: it passes no baton.
  assert.equal(futex.calls.wakeOne, 1);
  assert.equal(s.acquire(50), true); // post then timed acquire succeeds
  assert.equal(word(s), 0);
});

test("many releases coalesce into the count, not into wakes", () => {
  const futex = countingFutex(atomicsFutex);
  const s = new Semaphore(0, { futex });
  for (let i = 0; i < 1000; i++) s.release();
  assert.equal(s.value, 1000);
  for (let i = 0; i < 1000; i++) assert.equal(s.acquire(0), true);
  assert.equal(s.acquire(0), false);
  assert.equal(futex.calls.wakeOne + futex.calls.wakeAll, 0);
});

test("release beyond max or the 31-bit range throws RangeError and changes nothing", () => {
  const s = new Semaphore(2, { max: 3 });
  assert.equal(s.max, 3);
  s.release();
  assert.throws(() => s.release(), { name: "RangeError", message: /would pass max 3/ });
  assert.equal(word(s), 3);
  const big = new Semaphore(SEMAPHORE_MAX - 1);
  big.release();
  assert.throws(() => big.release(), RangeError);
  assert.equal(big.value, SEMAPHORE_MAX);
  // the bound travels with the handle
  const attached = Semaphore.from(s.handle);
  assert.equal(attached.max, 3);
  assert.throws(() => attached.release(), RangeError);
});

test("bad input: negative, fractional or out-of-range counts and foreign words", () => {
  assert.throws(() => new Semaphore(-1), { name: "RangeError", message: /initial must be a whole number from 0/ });
  assert.throws(() => new Semaphore(1.5), RangeError);
  assert.throws(() => new Semaphore("3" as unknown as number), TypeError);
  assert.throws(() => new Semaphore(5, { max: 4 }), RangeError);
  assert.throws(() => new Semaphore(0, { max: 0 }), RangeError);
  assert.throws(() => new Semaphore(0, { max: 2 ** 31 }), RangeError);
  const s = new Semaphore(1);
  assert.throws(() => s.release(0), RangeError);
  assert.throws(() => s.release(-2), RangeError);
  assert.throws(() => s.release(1.5), RangeError);
  assert.throws(() => s.acquire(-1), RangeError);
  assert.equal(s.value, 1);
  const sab = new SharedArrayBuffer(4);
  new Int32Array(sab)[0] = 9;
  assert.throws(() => Semaphore.from({ buffer: sab, byteOffset: 0, max: 5 }), { name: "TypeError", message: /9 permits, more than max 5/ });
});

test("acquireAsync: resolves on release, times out, and an abort takes no permit and no keep-alive", async () => {
  const s = new Semaphore(0);
  const p = s.acquireAsync({ timeout: 5000 });
  await tick(5);
  s.release();
  assert.equal(await p, true);
  assert.equal(s.value, 0);
  assert.equal(await s.acquireAsync({ timeout: 10 }), false);
  const ac = new AbortController();
  const aborted = s.acquireAsync({ signal: ac.signal });
  await tick(5);
  ac.abort(new Error("cancel"));
  await assert.rejects(aborted, /cancel/);
  assert.equal(keepAliveCount(), 0);
  s.release();
  assert.equal(s.value, 1, "the aborted acquirer must not have taken the permit");
  await assert.rejects(s.acquireAsync({ signal: AbortSignal.abort() }), (e: Error) => e.name === "AbortError");
  assert.equal(s.value, 1);
});

test("an aborted acquirer passes the baton: the other acquirer gets the permit", async () => {
  const s = new Semaphore(0);
  const other = Semaphore.from(s.handle);
  const ac = new AbortController();
  const pa = s.acquireAsync({ signal: ac.signal });
  const pb = other.acquireAsync({ timeout: 5000 });
  await tick(5);
  s.release();
  ac.abort(new Error("a leaves"));
  await assert.rejects(pa, /a leaves/);
  assert.equal(await pb, true);
  assert.equal(s.value, 0);
});
