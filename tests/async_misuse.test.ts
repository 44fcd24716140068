/**
 * Async forms under misuse and load, in one thread: the abort storm (aborts and timeouts beside
 * thousands of waiters must not wake them all), signal objects of the wrong shape (refused up
 * front), words holding no state of their primitive (TypeError naming the value, word
 * unchanged, in every form), and LockCnt's timed and async forms.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { atomicsFutex, keepAliveCount, LockCnt, ManualResetEvent, Mutex, Semaphore } from "../mod.ts";
import { countingFutex } from "../testing.ts";
import { tick } from "./support/runtime.ts";
import { wordView as wordOf } from "./support/words.ts";


test("abort storm: 200 aborts and 100 timeouts beside 2 000 lockAsync waiters cost a bounded number of registrations", { timeout: 120_000 }, async (t) => {
  const futex = countingFutex(atomicsFutex);
  const m = new Mutex({ futex });
  const w = wordOf(m.handle);
  Atomics.store(w, 0, 1); // held by another thread
  const instances = Array.from({ length: 2000 }, () => Mutex.from(m.handle, { futex }));
  let served = 0;
  // Each waiter, once it holds the lock, counts itself and unlocks: the lock walks through all.
  const waiters = instances.map((inst) => inst.lockAsync().then((ok) => (served++, inst.unlock(), ok)));
  const controllers = Array.from({ length: 200 }, () => new AbortController());
  const aborted = controllers.map((c) => Mutex.from(m.handle, { futex }).lockAsync({ signal: c.signal }));
  const timed = Array.from({ length: 100 }, () => Mutex.from(m.handle, { futex }).lockAsync({ timeout: 30 }));
  await tick(10);
  const before = futex.calls.waitAsync;
  assert.equal(before, 2300);
  for (const c of controllers) c.abort(new Error("gave up"));
  for (const p of aborted) await assert.rejects(p, /gave up/);
  for (const p of timed) assert.equal(await p, false);
  await tick(50);
  const extra = futex.calls.waitAsync - before;
  assert.ok(extra <= 300, `aborts and timeouts caused ${extra} extra registrations (was ~420 000 when each woke everyone)`);
  assert.equal(futex.calls.wakeAll, 0, "no broadcast");
  assert.equal(served, 0, "nobody got a lock that is still held");
  // The foreign holder unlocks (word 2: store 0, wake one); the lock is handed through every waiter.
  Atomics.store(w, 0, 0);
  futex.wakeOne(w, 0);
  for (const p of waiters) assert.equal(await p, true);
  assert.equal(served, 2000);
  assert.equal(Atomics.load(w, 0), 0);
  const total = futex.calls.waitAsync;
  assert.ok(total <= 2 * 2300, `${total} registrations for 2 300 waiters: bounded by a small multiple`);
  t.diagnostic(`${total} waitAsync registrations for 2 300 waiters (${extra} caused by the 300 give-ups)`);
  assert.equal(keepAliveCount(), 0);
});

test("the same storm on a Semaphore: aborts and timeouts beside 2 000 acquireAsync waiters stay bounded", { timeout: 120_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const s = new Semaphore(0, { futex });
  const waiters = Array.from({ length: 2000 }, () => s.acquireAsync());
  const controllers = Array.from({ length: 100 }, () => new AbortController());
  const aborted = controllers.map((c) => s.acquireAsync({ signal: c.signal }));
  const timed = Array.from({ length: 100 }, () => s.acquireAsync({ timeout: 30 }));
  await tick(10);
  const before = futex.calls.waitAsync;
  for (const c of controllers) c.abort(new Error("gave up"));
  for (const p of aborted) await assert.rejects(p, /gave up/);
  for (const p of timed) assert.equal(await p, false);
  await tick(50);
  assert.ok(futex.calls.waitAsync - before <= 200, `${futex.calls.waitAsync - before} extra registrations`);
  for (let i = 0; i < 2000; i++) s.release();
  for (const p of waiters) assert.equal(await p, true);
  assert.equal(s.value, 0);
  assert.ok(futex.calls.waitAsync <= 2 * 2200, `${futex.calls.waitAsync} registrations for 2 200 waiters`);
  assert.equal(keepAliveCount(), 0);
});

test("a signal-like object missing removeEventListener (or reason) is refused up front by every async form", async () => {
  const half = { aborted: false, addEventListener() {} };
  const noReason = { aborted: false, addEventListener() {}, removeEventListener() {} };
  const held = new Mutex();
  Atomics.store(wordOf(held.handle), 0, 1);
  const lc = new LockCnt();
  lc.inc();
  const calls: [string, (o: never) => Promise<unknown>][] = [
    ["ManualResetEvent.waitAsync", (o) => new ManualResetEvent().waitAsync(o)],
    ["Mutex.lockAsync", (o) => held.lockAsync(o)],
    ["Mutex.withLockAsync", (o) => held.withLockAsync(() => 0, o)],
    ["Semaphore.acquireAsync", (o) => new Semaphore(0).acquireAsync(o)],
    ["LockCnt.lockAsync", (o) => new LockCnt().lockAsync(o)],
    ["LockCnt.incAsync", (o) => new LockCnt().incAsync(o)],
    ["LockCnt.decAndLockAsync", (o) => lc.decAndLockAsync(o)],
    ["LockCnt.decIfLockAsync", (o) => lc.decIfLockAsync(o)],
  ];
  for (const [name, call] of calls) {
    for (const signal of [half, noReason]) {
      await assert.rejects(call({ signal, timeout: 10 } as never), { name: "TypeError", message: /signal must be an AbortSignal/ }, name);
    }
  }
  assert.equal(lc.count, 1, "nothing changed");
  assert.equal(keepAliveCount(), 0);
});

test("a word holding no state of its primitive is a TypeError naming the value, in every form, and is left as it was", async () => {
  // Mutex: 12345 is no state; lock must not overwrite it with 2 and sleep.
  const m = new Mutex({ spin: 0 });
  const mw = wordOf(m.handle);
  Atomics.store(mw, 0, 12345);
  assert.throws(() => m.lock(), { name: "TypeError", message: /holds 12345, which is no mutex state/ });
  assert.throws(() => m.lock(50), TypeError);
  await assert.rejects(m.lockAsync({ timeout: 50 }), { name: "TypeError", message: /12345/ });
  assert.equal(m.tryLock(), false);
  assert.equal(Atomics.load(mw, 0), 12345, "never overwritten");
  // LockCnt: a negative word (bit 31) or lock bits 3.
  for (const bad of [0x80000000 | 0, 0x80000001 | 0, 0x80000004 | 0, 3, 7]) {
    const lc = new LockCnt({ spin: 0 });
    const lw = wordOf(lc.handle);
    Atomics.store(lw, 0, bad);
    const named = { name: "TypeError", message: new RegExp(`holds ${bad}, which is no LockCnt state`) };
    assert.throws(() => lc.inc(), named);
    assert.throws(() => lc.inc(20), named);
    assert.throws(() => lc.dec(), named);
    assert.throws(() => lc.lock(), named);
    assert.throws(() => lc.decAndLock(), named);
    assert.throws(() => lc.decIfLock(), named);
    assert.throws(() => lc.count, named);
    await assert.rejects(lc.incAsync({ timeout: 20 }), named);
    await assert.rejects(lc.lockAsync({ timeout: 20 }), named);
    assert.equal(Atomics.load(lw, 0), bad, `word ${bad} left as it was`);
  }
  // Semaphore: a count above max.
  const s = new Semaphore(0, { max: 10 });
  const sw = wordOf(s.handle);
  Atomics.store(sw, 0, 50);
  assert.throws(() => s.acquire(), { name: "TypeError", message: /holds 50 \(50 permits\), more than its max 10/ });
  assert.throws(() => s.tryAcquire(), TypeError);
  assert.throws(() => s.release(), TypeError);
  await assert.rejects(s.acquireAsync({ timeout: 10 }), TypeError);
  assert.equal(Atomics.load(sw, 0), 50);
  // Event: 7 is no state.
  const ev = new ManualResetEvent();
  Atomics.store(wordOf(ev.handle), 0, 7);
  assert.throws(() => ev.wait(10), { name: "TypeError", message: /holds 7/ });
  assert.throws(() => ev.wait(0), TypeError);
  await assert.rejects(ev.waitAsync({ timeout: 10 }), TypeError);
  assert.equal(Atomics.load(wordOf(ev.handle), 0), 7);
  assert.equal(keepAliveCount(), 0);
});

test("LockCnt timed forms: inc(ms) and lock(ms) give up on a lock held elsewhere; inc(0)/lock(0) poll without announcing", () => {
  const lc = new LockCnt({ spin: 0 });
  const w = wordOf(lc.handle);
  Atomics.store(w, 0, 1); // (count 0, LOCKED) by another thread
  assert.equal(lc.inc(0), false);
  assert.equal(lc.lock(0), false);
  assert.equal(Atomics.load(w, 0), 1, "a poll does not mark WAITING");
  const t0 = performance.now();
  assert.equal(lc.inc(30), false);
  assert.ok(performance.now() - t0 >= 29);
  assert.equal(Atomics.load(w, 0), 2, "the timed inc announced itself (WAITING)");
  assert.equal(lc.lock(20), false);
  Atomics.store(w, 0, 4 | 1); // count 1, locked: inc joins at once
  assert.equal(lc.inc(0), true);
  assert.equal(Atomics.load(w, 0), 9);
  Atomics.store(w, 0, 0);
  assert.equal(lc.inc(10), true);
  assert.equal(lc.lock(10), true);
  assert.equal(Atomics.load(w, 0), 5);
  lc.unlock();
  lc.dec();
});

test("LockCnt async forms wait for the unlock, time out, abort cleanly, and keep the baton rule", { timeout: 30_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const holder = new LockCnt({ futex });
  const a = LockCnt.from(holder.handle, { futex });
  const b = LockCnt.from(holder.handle, { futex });
  const w = wordOf(holder.handle);
  assert.equal(holder.lock(), true);
  assert.equal(await a.lockAsync({ timeout: 20 }), false);
  assert.equal(await a.incAsync({ timeout: 20 }), false);
  const ac = new AbortController();
  const abortedInc = a.incAsync({ signal: ac.signal });
  const locking = b.lockAsync({ timeout: 5000 });
  await tick(5);
  ac.abort(new Error("stop"));
  await assert.rejects(abortedInc, /stop/);
  assert.equal(Atomics.load(w, 0), 2, "(0, WAITING): the abort changed no count");
  holder.unlock();
  assert.equal(await locking, true);
  assert.equal(b.held, true);
  assert.equal(Atomics.load(w, 0), 2, "a waiter that slept takes the lock as WAITING");
  const visiting = a.incAsync({ timeout: 5000 });
  await tick(5);
  b.unlock();
  assert.equal(await visiting, true);
  assert.equal(Atomics.load(w, 0), 4);
  // decAndLockAsync / decIfLockAsync: not the last visit → false at once; the last → true holding it.
  b.inc();
  assert.equal(await a.decIfLockAsync(), false);
  assert.equal(await a.decAndLockAsync(), false);
  assert.equal(await b.decAndLockAsync(), true);
  assert.equal(b.held, true);
  assert.equal(Atomics.load(w, 0), 1);
  b.unlock();
  // Last visit while another thread holds the lock: a timeout rejects with the visit still in progress.
  a.inc();
  Atomics.store(w, 0, 4 | 1);
  await assert.rejects(a.decAndLockAsync({ timeout: 20 }), { name: "TimeoutError", message: /still in progress/ });
  assert.equal(Atomics.load(w, 0) >>> 2, 1, "the visit is still counted");
  Atomics.store(w, 0, 4);
  assert.equal(await a.decIfLockAsync({ timeout: 1000 }), true);
  a.unlock();
  assert.equal(Atomics.load(w, 0), 0);
  assert.equal(keepAliveCount(), 0);
});


/**
 * A futex whose async waits, once armed, see their signal abort right after a real wake and
 * before the protocol continues — the window in which an aborted waiter holds a wake it must
 * pass on (the give-up baton).
 */
function abortAfterWake(ac: AbortController): { futex: typeof atomicsFutex; arm(): void } {
  let armed = false;
  return {
    futex: {
      ...atomicsFutex,
      name: "abort-after-wake(atomics)",
      waitAsync(view, index, expected, timeoutMs, signal) {
        const mine = signal === ac.signal;
        return atomicsFutex.waitAsync(view, index, expected, timeoutMs, signal).then((v) => {
          if (mine && armed && v === "ok" && !ac.signal.aborted) ac.abort(new Error("aborted after its wake"));
          return v;
        });
      },
    },
    arm: () => void (armed = true),
  };
}

test("give-up baton, async path: a lockAsync aborted after it was woken passes the lock on", { timeout: 30_000 }, async () => {
  const ac = new AbortController();
  const { futex, arm } = abortAfterWake(ac);
  const m = new Mutex({ futex });
  const w = wordOf(m.handle);
  Atomics.store(w, 0, 1); // held by another thread
  const first = Mutex.from(m.handle, { futex }).lockAsync({ signal: ac.signal });
  const second = Mutex.from(m.handle, { futex });
  const secondGot = second.lockAsync({ timeout: 3000 }); // at its deadline it would re-check and take it
  await tick(5);
  arm();
  const t0 = performance.now();
  Atomics.store(w, 0, 0); // the foreign holder unlocks a CONTENDED word: store 0, wake one (the first)
  atomicsFutex.wakeOne(w, 0);
  await assert.rejects(first, /aborted after its wake/);
  assert.equal(await secondGot, true);
  assert.ok(performance.now() - t0 < 1000, "the second waiter was stranded until its deadline by the aborted first");
  second.unlock();
});

test("give-up baton, async path: an acquireAsync aborted after it was woken passes the permit on", { timeout: 30_000 }, async () => {
  const ac = new AbortController();
  const { futex, arm } = abortAfterWake(ac);
  const s = new Semaphore(0, { futex });
  const first = s.acquireAsync({ signal: ac.signal });
  const second = Semaphore.from(s.handle, { futex }).acquireAsync({ timeout: 3000 });
  await tick(5);
  arm();
  const t0 = performance.now();
  s.release(); // wakes one: the first, which then aborts
  await assert.rejects(first, /aborted after its wake/);
  assert.equal(await second, true);
  assert.ok(performance.now() - t0 < 1000, "the permit reached the second waiter only at its deadline");
  assert.equal(s.value, 0);
});

test("an aborted wait's orphan that receives a wake passes it on to the next waiter", { timeout: 30_000 }, async () => {
  for (const kind of ["Mutex", "Semaphore"] as const) {
    const ac = new AbortController();
    let first: Promise<boolean>, second: Promise<boolean>, release: () => void, after: () => void;
    if (kind === "Mutex") {
      const m = new Mutex();
      const w = wordOf(m.handle);
      Atomics.store(w, 0, 1);
      first = Mutex.from(m.handle).lockAsync({ signal: ac.signal }); // registered first: its orphan is first in line
      const b = Mutex.from(m.handle);
      second = b.lockAsync({ timeout: 3000 });
      release = () => (Atomics.store(w, 0, 0), atomicsFutex.wakeOne(w, 0));
      after = () => b.unlock();
    } else {
      const s = new Semaphore(0);
      first = s.acquireAsync({ signal: ac.signal });
      second = Semaphore.from(s.handle).acquireAsync({ timeout: 3000 });
      release = () => s.release();
      after = () => assert.equal(s.value, 0);
    }
    await tick(5);
    ac.abort(new Error("gone"));
    await assert.rejects(first, /gone/);
    const t0 = performance.now();
    release(); // the engine hands this wake to the orphan, first in line
    assert.equal(await second, true);
    assert.ok(performance.now() - t0 < 1000, `${kind}: the orphan swallowed the wake (the waiter got it only at its deadline)`);
    after();
  }
  assert.equal(keepAliveCount(), 0);
});
