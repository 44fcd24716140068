/**
 * AutoResetEvent in one thread: exact words (sets in bits 0–15, waiters in bits 16–30) and
 * futex calls per transition; each set releases exactly one waiter or stays set once; a waiter
 * that gives up takes no set (and passes on the one it was given); bad input.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { ARE_SET, ARE_WAITER, atomicsFutex, AutoResetEvent, DeadlockError, keepAliveCount } from "../mod.ts";
import { countingFutex } from "../testing.ts";

const word = (e: AutoResetEvent): number => Atomics.load(new Int32Array(e.handle.buffer, e.handle.byteOffset, 1), 0);
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("no waiters: set → 1, a second set changes nothing, wait takes it → 0; no futex call", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const e = new AutoResetEvent({ futex });
  assert.equal(word(e), 0);
  assert.equal(e.set(), true);
  assert.equal(word(e), ARE_SET);
  assert.equal(e.isSet, true);
  assert.equal(e.set(), false, "already set");
  assert.equal(word(e), ARE_SET);
  assert.equal(e.wait(), true);
  assert.equal(word(e), 0);
  assert.equal(e.wait(0), false);
  assert.equal(e.set(), true);
  assert.equal(e.reset(), true);
  assert.equal(e.reset(), false);
  assert.equal(word(e), 0);
  assert.equal(new AutoResetEvent({ set: true }).wait(0), true);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
});

test("each set releases exactly one of two sleepers (one wakeOne each); a third stays set", { timeout: 10_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const e = new AutoResetEvent({ futex });
  const done: string[] = [];
  const a = e.waitAsync().then((r) => (done.push("a"), r));
  const b = AutoResetEvent.from(e.handle, { futex }).waitAsync().then((r) => (done.push("b"), r));
  await tick(5);
  assert.equal(word(e), 2 * ARE_WAITER);
  assert.equal(e.set(), true);
  assert.equal(word(e), 2 * ARE_WAITER + 1);
  assert.equal(futex.calls.wakeOne, 1);
  await tick(5);
  assert.equal(done.length, 1, "one set released one waiter");
  assert.equal(word(e), ARE_WAITER);
  assert.equal(e.set(), true);
  assert.equal(futex.calls.wakeOne, 2);
  assert.deepEqual([await a, await b], [true, true]);
  assert.equal(word(e), 0);
  assert.equal(e.set(), true);
  assert.equal(word(e), ARE_SET);
  assert.equal(futex.calls.wakeOne, 2, "a set with no waiter wakes nobody");
});

test("sets made before the woken sleeper runs are not coalesced: W=1 P=1, then P=2 (set for the next), then no-op", { timeout: 10_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const e = new AutoResetEvent({ futex });
  const a = e.waitAsync();
  await tick(5);
  assert.equal(e.set(), true);
  assert.equal(word(e), ARE_WAITER + 1);
  assert.equal(e.set(), true, "the waiter's set is spoken for: this one stays set for the next arrival");
  assert.equal(word(e), ARE_WAITER + 2);
  assert.equal(e.set(), false);
  assert.equal(futex.calls.wakeOne, 1);
  assert.equal(await a, true);
  assert.equal(word(e), ARE_SET);
  assert.equal(e.wait(0), true);
});

test("a timed-out wait takes no set and withdraws its announcement", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const e = new AutoResetEvent({ futex, spin: 0 });
  const t0 = performance.now();
  assert.equal(e.wait(30), false);
  assert.ok(performance.now() - t0 >= 29);
  assert.equal(word(e), 0, "withdrawn");
  assert.equal(e.set(), true);
  assert.equal(word(e), ARE_SET);
  assert.equal(futex.calls.wakeOne, 0, "nobody was announced");
});

test("a waiter aborted after a set reached it passes the set on to the other sleeper", { timeout: 10_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const e = new AutoResetEvent({ futex });
  const ac = new AbortController();
  const a = e.waitAsync({ signal: ac.signal });
  const b = AutoResetEvent.from(e.handle, { futex }).waitAsync({ timeout: 5000 });
  await tick(5);
  assert.equal(word(e), 2 * ARE_WAITER);
  e.set(); // wakes one of them (a, registered first)
  ac.abort(new Error("a leaves"));
  await assert.rejects(a, /a leaves/);
  assert.equal(await b, true, "the set went on to b");
  assert.equal(word(e), 0);
  assert.equal(keepAliveCount(), 0);
});

test("a waiter that leaves holding a spoken-for set when the event is also set: the extra set is not kept twice", { timeout: 10_000 }, async () => {
  const e = new AutoResetEvent();
  const ac = new AbortController();
  const a = e.waitAsync({ signal: ac.signal });
  await tick(5);
  e.set();
  e.set();
  assert.equal(word(e), ARE_WAITER + 2);
  ac.abort(new Error("gone"));
  await assert.rejects(a, /gone/);
  assert.equal(word(e), ARE_SET, "sets clamped to waiters + 1: set once for the next arrival");
});

test("waitAsync: timeout false (withdrawn), pre-aborted signal rejects, nothing taken", { timeout: 10_000 }, async () => {
  const e = new AutoResetEvent();
  assert.equal(await e.waitAsync({ timeout: 10 }), false);
  assert.equal(word(e), 0);
  e.set();
  await assert.rejects(e.waitAsync({ signal: AbortSignal.abort() }), (x: Error) => x.name === "AbortError");
  assert.equal(word(e), ARE_SET, "the aborted call took nothing");
  assert.equal(await e.waitAsync({ timeout: 0 }), true);
});

test("a blocking wait beside this thread's pending waitAsync is DeadlockError, and withdraws its announcement", { timeout: 10_000 }, async () => {
  const e = new AutoResetEvent({ spin: 0 });
  const p = e.waitAsync({ timeout: 5000 });
  await tick(2);
  assert.throws(() => e.wait(), DeadlockError);
  assert.equal(word(e), ARE_WAITER, "only the async waiter remains announced");
  e.set();
  assert.equal(await p, true);
});

test("bad input and corrupted words: clear errors, words left as they are", { timeout: 10_000 }, async () => {
  assert.throws(() => new AutoResetEvent({ set: 1 as unknown as boolean }), { name: "TypeError", message: /set must be a boolean/ });
  const e = new AutoResetEvent();
  assert.throws(() => e.wait(-1), RangeError);
  await assert.rejects(e.waitAsync({ timeout: 1.5 }), RangeError);
  assert.equal(word(e), 0);
  const v = new Int32Array(e.handle.buffer);
  Atomics.store(v, 0, 5); // 5 sets, 0 waiters
  assert.throws(() => e.set(), { name: "TypeError", message: /holds 5 \(5 sets, 0 waiters\)/ });
  assert.throws(() => e.wait(0), /holds 5/);
  assert.throws(() => AutoResetEvent.from(e.handle), { name: "TypeError", message: /holds 5/ });
  Atomics.store(v, 0, -1);
  assert.throws(() => e.set(), { name: "TypeError", message: /holds -1.*bit 31 set/ });
  assert.equal(Atomics.load(v, 0), -1);
  const busy = new AutoResetEvent();
  void busy.waitAsync({ timeout: 1 });
  assert.throws(() => new AutoResetEvent({ buffer: busy.handle.buffer }), { name: "TypeError", message: /an event with waiters/ });
});

test("give-up baton, async path: a waitAsync aborted after a set's wake reached it passes the wake on", { timeout: 30_000 }, async () => {
  // A futex whose waitAsync, once armed, aborts the first waiter right after it was woken:
  // the wake is consumed, so only the protocol's give-up can pass it on.
  const ac = new AbortController();
  let armed = false;
  const futex = {
    ...atomicsFutex,
    name: "abort-after-wake(atomics)",
    waitAsync(view: Int32Array, index: number, expected: number, timeoutMs?: number, signal?: AbortSignal) {
      return atomicsFutex.waitAsync(view, index, expected, timeoutMs, signal).then((v) => {
        if (signal === ac.signal && armed && v === "ok" && !ac.signal.aborted) ac.abort(new Error("aborted after its wake"));
        return v;
      });
    },
  };
  const e = new AutoResetEvent({ futex });
  const first = e.waitAsync({ signal: ac.signal });
  const second = AutoResetEvent.from(e.handle, { futex }).waitAsync({ timeout: 3000 });
  await tick(5);
  assert.equal(word(e), 2 * ARE_WAITER);
  armed = true;
  const t0 = performance.now();
  assert.equal(e.set(), true); // wakes one: the first, which then aborts
  await assert.rejects(first, /aborted after its wake/);
  assert.equal(await second, true);
  assert.ok(performance.now() - t0 < 1000, "the set reached the second waiter only at its deadline");
  assert.equal(word(e), 0);
});
