/**
 * Async guards (`await using`) for Mutex and Semaphore, and Semaphore.withPermit /
 * withPermitAsync: held inside the block, released after (on throw too), TimeoutError on a
 * timeout, the signal's reason on abort, nothing held after a refusal.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { keepAliveCount, Mutex, Semaphore } from "../mod.ts";

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("Mutex.guardAsync: held inside `await using`, unlocked after, also when the block throws", { timeout: 10_000 }, async () => {
  const m = new Mutex();
  {
    await using _g = await m.guardAsync({ timeout: 1000 });
    assert.equal(m.held, true);
  }
  assert.equal(m.isLocked, false);
  await assert.rejects(async () => {
    await using _g = await m.guardAsync();
    throw new Error("inside");
  }, /inside/);
  assert.equal(m.isLocked, false);
});

test("Mutex.guardAsync waits for an unlock; TimeoutError on timeout, the reason on abort, holding nothing", { timeout: 10_000 }, async () => {
  const m = new Mutex();
  const other = Mutex.from(m.handle);
  m.lock();
  await assert.rejects(other.guardAsync({ timeout: 10 }), (e: Error) => e.name === "TimeoutError" && /within 10 ms/.test(e.message));
  const ac = new AbortController();
  const aborted = other.guardAsync({ signal: ac.signal });
  await tick(3);
  ac.abort(new Error("stop"));
  await assert.rejects(aborted, /stop/);
  assert.equal(other.held, false);
  const later = other.guardAsync();
  setTimeout(() => m.unlock(), 5);
  const g = await later;
  assert.equal(other.held, true);
  g[Symbol.dispose]();
  g.release(); // idempotent
  assert.equal(m.isLocked, false);
  assert.equal(keepAliveCount(), 0);
});

test("Semaphore.guard / guardAsync: a permit inside the block, released after", { timeout: 10_000 }, async () => {
  const s = new Semaphore(2);
  {
    using _a = s.guard();
    assert.equal(s.value, 1);
    await using _b = await s.guardAsync({ timeout: 100 });
    assert.equal(s.value, 0);
    assert.throws(() => s.guard(0), (e: Error) => e.name === "TimeoutError");
    await assert.rejects(s.guardAsync({ timeout: 5 }), (e: Error) => e.name === "TimeoutError");
    await assert.rejects(s.guardAsync({ signal: AbortSignal.abort() }), (e: Error) => e.name === "AbortError");
  }
  assert.equal(s.value, 2);
});

test("Semaphore.withPermit: releases after fn, after a throw, and after a returned promise settles", { timeout: 10_000 }, async () => {
  const s = new Semaphore(1);
  assert.equal(s.withPermit(() => s.value), 0);
  assert.equal(s.value, 1);
  assert.throws(() => s.withPermit(() => { throw new Error("boom"); }), /boom/);
  assert.equal(s.value, 1);
  const p = s.withPermit(async () => {
    await tick(3);
    return s.value;
  });
  assert.equal(s.value, 0, "held while the promise is pending");
  assert.equal(await p, 0);
  assert.equal(s.value, 1);
  assert.throws(() => s.withPermit("x" as unknown as () => void), TypeError);
  assert.equal(s.value, 1);
});

test("Semaphore.withPermitAsync: runs fn holding a permit; TimeoutError / abort without running fn", { timeout: 10_000 }, async () => {
  const s = new Semaphore(1);
  assert.equal(await s.withPermitAsync(async () => s.value), 0);
  await assert.rejects(s.withPermitAsync(async () => { throw new Error("async boom"); }), /async boom/);
  assert.equal(s.value, 1);
  s.acquire();
  let ran = false;
  await assert.rejects(s.withPermitAsync(() => { ran = true; }, { timeout: 5 }), (e: Error) => e.name === "TimeoutError");
  await assert.rejects(s.withPermitAsync(() => { ran = true; }, { signal: AbortSignal.timeout(5) }), (e: Error) => e.name === "TimeoutError");
  assert.equal(ran, false);
  const later = s.withPermitAsync(() => s.value);
  setTimeout(() => s.release(), 5);
  assert.equal(await later, 0);
  assert.equal(s.value, 1);
  await assert.rejects(s.withPermitAsync(null as unknown as () => void), TypeError);
  assert.equal(keepAliveCount(), 0);
});
