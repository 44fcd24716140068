/**
 * Condition: the sequence word and the futex calls of every path, the order "read the sequence,
 * then unlock" (a notify right after the unlock is not missed), timeouts and aborts (the mutex
 * is held again whichever way a wait ends; a give-up after a notify passes one wake on), misuse
 * and bad input (nothing changed), handles and placement.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { atomicsFutex, Condition, DeadlockError, Mutex, NotHeldError, type WordHandle } from "../mod.ts";
import { countingFutex } from "../testing.ts";
import { scriptedFutex } from "./support/scripted_futex.ts";

const wordOf = (h: WordHandle): number => Atomics.load(new Int32Array(h.buffer, h.byteOffset, 1), 0);
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("the word is a sequence: notifyOne / notifyAll add 1 then wake one / all; it wraps", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const c = new Condition({ futex });
  assert.equal(c.sequence, 0);
  c.notifyOne();
  assert.equal(wordOf(c.handle), 1);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 1, wakeAll: 0 });
  c.notifyAll();
  assert.equal(wordOf(c.handle), 2);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 1, wakeAll: 1 });
  Atomics.store(new Int32Array(c.handle.buffer, 0, 1), 0, 0x7fffffff);
  c.notifyOne();
  assert.equal(c.sequence, -0x80000000, "the sequence wraps like an i32");
});

test("wait reads the sequence before it unlocks: a notify right after the unlock is not slept through", { timeout: 10_000 }, () => {
  const futex = scriptedFutex(); // a wait that sleeps times out at once: sleeping through the notify returns false
  const m = new Mutex({ futex, spin: 0 });
  const c = new Condition({ futex });
  const mutexWord = new Int32Array(m.handle.buffer, m.handle.byteOffset, 1);
  let notified = 0;
  futex.wakeOne = (view) => { // the mutex's unlock wakes "another thread", which notifies at once
    futex.calls.wakeOne++;
    if (view.buffer === m.handle.buffer && notified++ === 0) c.notifyOne();
  };
  m.lock();
  Atomics.store(mutexWord, 0, 2); // contended: its unlock wakes
  assert.equal(c.wait(m, 1000), true, "the notify after the unlock must end the wait");
  assert.equal(futex.calls.wait, 0, "it never slept: the word had moved past the sequence it read");
  assert.equal(c.sequence, 1);
  assert.equal(m.held, true);
  assert.equal(Atomics.load(mutexWord, 0), 1);
  m.unlock();
});

test("waitAsync reads the sequence before it unlocks too: a notify right after the unlock is not slept through", { timeout: 10_000 }, async () => {
  const futex = scriptedFutex(); // an async wait that sleeps times out at once
  const m = new Mutex({ futex, spin: 0 });
  const c = new Condition({ futex });
  const mutexWord = new Int32Array(m.handle.buffer, m.handle.byteOffset, 1);
  let notified = 0;
  futex.wakeOne = (view) => {
    futex.calls.wakeOne++;
    if (view.buffer === m.handle.buffer && notified++ === 0) c.notifyOne();
  };
  m.lock();
  Atomics.store(mutexWord, 0, 2);
  assert.equal(await c.waitAsync(m, { timeout: 50 }), true, "the notify after the unlock must end the wait");
  assert.equal(futex.calls.waitAsync, 0, "it never slept");
  assert.equal(m.held, true);
  m.unlock();
});

test("a timed-out wait returns false holding the mutex again; the word unchanged, no wake passed on", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const m = new Mutex({ futex });
  const c = new Condition({ futex });
  m.lock();
  const t0 = performance.now();
  assert.equal(c.wait(m, 20), false);
  assert.ok(performance.now() - t0 >= 19);
  assert.equal(m.held, true);
  assert.equal(wordOf(m.handle), 1);
  assert.equal(c.sequence, 0);
  assert.ok(futex.calls.wait >= 1);
  assert.equal(futex.calls.wakeOne, 0);
  assert.equal(c.wait(m, 0), false, "wait(m, 0) gives the mutex up for an instant only");
  assert.equal(m.held, true);
  m.unlock();
});

test("waitAsync releases the mutex at once; a notify resolves it true with the mutex held again", { timeout: 10_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const m = new Mutex({ futex });
  const c = new Condition({ futex });
  m.lock();
  const p = c.waitAsync(m);
  assert.equal(m.isLocked, false, "released synchronously");
  assert.equal(m.held, false);
  m.lock();
  c.notifyOne();
  m.unlock();
  assert.equal(await p, true);
  assert.equal(m.held, true);
  assert.equal(c.sequence, 1);
  assert.equal(futex.calls.waitAsync, 1);
  m.unlock();
});

test("waitAsync: a timeout resolves false and an abort rejects with the reason, the mutex held again in both", { timeout: 10_000 }, async () => {
  const m = new Mutex();
  const c = new Condition();
  m.lock();
  assert.equal(await c.waitAsync(m, { timeout: 10 }), false);
  assert.equal(m.held, true);
  const ac = new AbortController();
  const p = c.waitAsync(m, { signal: ac.signal });
  await tick(5);
  const reason = new Error("stop");
  ac.abort(reason);
  await assert.rejects(p, (e) => e === reason);
  assert.equal(m.held, true, "re-locked before rejecting");
  m.unlock();
});

test("an aborted waitAsync that a notifyOne reached passes one wake on; one the notify missed passes none", { timeout: 10_000 }, async () => {
  const futex = scriptedFutex(() => "pending");
  const m = new Mutex({ futex });
  const c = new Condition({ futex });
  m.lock();
  const ac = new AbortController();
  const p = c.waitAsync(m, { signal: ac.signal });
  c.notifyOne(); // its wake may have gone to this waiter ...
  ac.abort("gone"); // ... which then leaves: it must hand the wake on
  await assert.rejects(p, (e) => e === "gone");
  assert.equal(futex.calls.wakeOne, 2, "notifyOne's wake and the give-up's");
  assert.equal(m.held, true);
  const ac2 = new AbortController();
  const p2 = c.waitAsync(m, { signal: ac2.signal });
  ac2.abort("gone");
  await assert.rejects(p2, (e) => e === "gone");
  assert.equal(futex.calls.wakeOne, 2, "no notify since it read the sequence: nothing to pass on");
  m.unlock();
});

test("misuse: a mutex not held, not a Mutex, another futex domain; bad timeouts and signals — nothing changed", { timeout: 10_000 }, async () => {
  const m = new Mutex();
  const c = new Condition();
  assert.throws(() => c.wait(m), { name: "NotHeldError", message: /not held/ });
  await assert.rejects(c.waitAsync(m), NotHeldError);
  assert.throws(() => c.wait({} as Mutex), { name: "TypeError", message: /pass the Mutex/ });
  const other = scriptedFutex();
  const foreign = new Condition({ futex: { ...other, domain: "os-shared" } });
  m.lock();
  assert.throws(() => foreign.wait(m), { name: "TypeError", message: /futex domain/ });
  assert.throws(() => c.wait(m, -1), RangeError);
  assert.throws(() => c.wait(m, 1.5), RangeError);
  assert.throws(() => c.wait(m, "5" as unknown as number), TypeError);
  await assert.rejects(c.waitAsync(m, { timeout: -1 }), RangeError);
  await assert.rejects(c.waitAsync(m, 5 as unknown as object), TypeError);
  await assert.rejects(c.waitAsync(m, { signal: AbortSignal.abort("already") }), (e) => e === "already");
  assert.equal(m.held, true, "every refused call left the mutex held");
  assert.equal(wordOf(m.handle), 1);
  assert.equal(c.sequence, 0);
  m.unlock();
});

test("per thread: a blocking wait beside this thread's pending waitAsync on the same condition is DeadlockError", { timeout: 10_000 }, async () => {
  const a = new Mutex();
  const b = new Mutex();
  const c = new Condition();
  a.lock();
  const p = c.waitAsync(a);
  b.lock();
  assert.throws(() => c.wait(b, 1000), { name: "DeadlockError", message: /pending Condition.waitAsync/ });
  assert.equal(b.held, true, "refused before unlocking");
  b.unlock();
  c.notifyAll();
  assert.equal(await p, true);
  a.unlock();
  assert.ok(new DeadlockError("x") instanceof Error);
});

test("handles: from() shares the sequence, refuses foreign handles; placement leaves the word as it is", { timeout: 10_000 }, () => {
  const c = new Condition();
  const same = Condition.from(c.handle);
  same.notifyAll();
  assert.equal(c.sequence, 1);
  assert.equal(c.handle.kind, "Condition");
  assert.equal(c.handle.domain, "atomics");
  const m = new Mutex();
  assert.throws(() => Condition.from(m.handle), /belongs to a Mutex/);
  const sab = new SharedArrayBuffer(16);
  new Int32Array(sab)[2] = 7;
  const placed = new Condition({ buffer: sab, byteOffset: 8 });
  assert.equal(placed.sequence, 7, "every value is a sequence: not overwritten");
  assert.throws(() => new Condition({ buffer: sab, byteOffset: 16 }), RangeError);
  assert.throws(() => new Condition({ buffer: sab, byteOffset: 2 }), RangeError);
  assert.throws(() => new Condition({ buffer: new ArrayBuffer(4) }), TypeError);
  assert.throws(() => Condition.from(null as unknown as WordHandle), TypeError);
});

test("a notify that wraps the sequence (2^31−1 → −2^31) ends a wait: moved means different, not greater (wait and waitAsync)", { timeout: 10_000 }, async () => {
  for (const form of ["wait", "waitAsync"]) {
    const futex = scriptedFutex();
    const m = new Mutex({ futex });
    const c = new Condition({ futex });
    Atomics.store(new Int32Array(c.handle.buffer, c.handle.byteOffset, 1), 0, 0x7fffffff);
    let sleeps = 0;
    futex.hook = () => {
      if (sleeps++ > 0) return "timed-out";
      Condition.from(c.handle, { futex }).notifyOne(); // another thread notifies while we sleep
      return "ok";
    };
    m.lock();
    const ok = form === "wait" ? c.wait(m, 30) : await c.waitAsync(m, { timeout: 30 });
    assert.equal(ok, true, `${form}: notified`);
    assert.equal(c.sequence, -0x80000000);
    assert.equal(sleeps, 1, `${form}: it slept once, then saw the word moved`);
    assert.equal(m.held, true);
    m.unlock();
  }
});
