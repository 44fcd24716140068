/**
 * Once in one thread: exact words and futex calls per transition, a throwing fn leaves it
 * incomplete (a waiter retries), async fns and waiters, the per-thread deadlock rule, bad input.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { atomicsFutex, DeadlockError, keepAliveCount, Once, ONCE_COMPLETE, ONCE_QUEUED, ONCE_RUNNING } from "../mod.ts";
import { countingFutex } from "../testing.ts";

const word = (o: Once): number => Atomics.load(new Int32Array(o.handle.buffer, o.handle.byteOffset, 1), 0);
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("run: 0 → RUNNING while fn runs → COMPLETE after it; later calls return false without a futex call", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const o = new Once({ futex });
  assert.equal(word(o), 0);
  let seen = -1;
  assert.equal(o.run(() => { seen = word(o); }), true);
  assert.equal(seen, ONCE_RUNNING, "fn runs with the word RUNNING (COMPLETE only after it ends)");
  assert.equal(word(o), ONCE_COMPLETE);
  assert.equal(o.isCompleted, true);
  assert.equal(o.run(() => assert.fail("ran twice")), false);
  assert.equal(Once.from(o.handle).run(() => assert.fail("ran twice")), false);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
});

test("a throwing fn propagates, leaves the word INCOMPLETE, and the next caller runs its own fn", { timeout: 10_000 }, () => {
  const o = new Once();
  assert.throws(() => o.run(() => { throw new Error("init failed"); }), /init failed/);
  assert.equal(word(o), 0);
  assert.equal(o.isCompleted, false);
  assert.equal(o.run(() => {}), true);
  assert.equal(word(o), ONCE_COMPLETE);
});

test("run() refuses an fn that returns a promise: TypeError, the Once left incomplete", { timeout: 10_000 }, () => {
  const o = new Once();
  assert.throws(() => o.run((async () => {}) as unknown as () => void), { name: "TypeError", message: /use runAsync/ });
  assert.equal(word(o), 0);
});

test("runAsync: a waiter of this thread announces QUEUED, the runner's end wakes all once", { timeout: 10_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const o = new Once({ futex });
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let runs = 0;
  const first = o.runAsync(async () => {
    runs++;
    await gate;
  });
  assert.equal(word(o), ONCE_RUNNING);
  const second = Once.from(o.handle, { futex }).runAsync(() => { runs++; });
  await tick(5);
  assert.equal(word(o), ONCE_QUEUED);
  assert.equal(futex.calls.waitAsync, 1);
  release();
  assert.equal(await first, true);
  assert.equal(await second, false);
  assert.equal(runs, 1);
  assert.equal(word(o), ONCE_COMPLETE);
  assert.equal(futex.calls.wakeAll, 1);
  assert.equal(keepAliveCount(), 0);
});

test("runAsync: a rejected fn leaves INCOMPLETE and wakes the waiter, which runs its own fn", { timeout: 10_000 }, async () => {
  const o = new Once();
  let fail!: () => void;
  const gate = new Promise<void>((_, rej) => (fail = () => rej(new Error("first failed"))));
  const first = o.runAsync(() => gate);
  let secondRan = false;
  const second = o.runAsync(() => { secondRan = true; });
  await tick(5);
  assert.equal(word(o), ONCE_QUEUED);
  fail();
  await assert.rejects(first, /first failed/);
  assert.equal(await second, true);
  assert.equal(secondRan, true);
  assert.equal(word(o), ONCE_COMPLETE);
});

test("an aborted waiter rejects with the reason; the running fn is not disturbed", { timeout: 10_000 }, async () => {
  const o = new Once();
  let release!: () => void;
  const first = o.runAsync(() => new Promise<void>((r) => (release = r)));
  const ac = new AbortController();
  const waiter = o.runAsync(() => assert.fail("ran twice"), { signal: ac.signal });
  await tick(5);
  ac.abort(new Error("not waiting"));
  await assert.rejects(waiter, /not waiting/);
  assert.equal(word(o), ONCE_QUEUED);
  release();
  assert.equal(await first, true);
  assert.equal(word(o), ONCE_COMPLETE);
  await assert.rejects(o.runAsync(() => {}, { signal: AbortSignal.abort() }), (e: Error) => e.name === "AbortError");
  assert.equal(keepAliveCount(), 0);
});

test("per thread: run() inside its own fn, or beside this thread's pending async fn, is DeadlockError", { timeout: 10_000 }, async () => {
  const o = new Once();
  assert.equal(o.run(() => {
    assert.throws(() => Once.from(o.handle).run(() => {}), { name: "DeadlockError", message: /inside fn/ });
  }), true);
  const p = new Once();
  let release!: () => void;
  const running = p.runAsync(() => new Promise<void>((r) => (release = r)));
  assert.throws(() => p.run(() => {}), DeadlockError);
  assert.equal(word(p), ONCE_RUNNING, "the refused call changed nothing");
  await tick(1); // fn starts a microtask after the word turns RUNNING
  release();
  assert.equal(await running, true);
});

test("bad input and corrupted words: clear errors, words left as they are", { timeout: 10_000 }, async () => {
  const o = new Once();
  assert.throws(() => o.run("x" as unknown as () => void), TypeError);
  await assert.rejects(o.runAsync(undefined as unknown as () => void), TypeError);
  await assert.rejects(o.runAsync(() => {}, { signal: {} as AbortSignal }), { name: "TypeError", message: /signal must be an AbortSignal/ });
  assert.equal(word(o), 0);
  Atomics.store(new Int32Array(o.handle.buffer), 0, 7);
  assert.throws(() => o.run(() => {}), { name: "TypeError", message: /holds 7, which is no Once state/ });
  assert.throws(() => Once.from(o.handle), { name: "TypeError", message: /holds 7/ });
  assert.equal(word(o), 7);
  const busy = new Once();
  let release!: () => void;
  const r = busy.runAsync(() => new Promise<void>((res) => (release = res)));
  assert.throws(() => new Once({ buffer: busy.handle.buffer }), { name: "TypeError", message: /running/ });
  await tick(1);
  release();
  await r;
});

test("a run() whose fn throws resets the word AND wakes the waiter that queued meanwhile, which then runs its own fn", { timeout: 10_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const o = new Once({ futex });
  let waiter: Promise<boolean> | undefined;
  let waiterRan = false;
  assert.throws(() =>
    o.run(() => {
      // while fn runs, another caller (an async one of this thread) queues and sleeps
      waiter = Once.from(o.handle, { futex }).runAsync(() => { waiterRan = true; });
      throw new Error("init failed");
    }), /init failed/);
  assert.equal(futex.calls.waitAsync, 1, "the waiter slept on QUEUED");
  assert.equal(futex.calls.wakeAll, 1, "the failed runner's end woke it");
  const t0 = performance.now();
  const settled = await Promise.race([waiter!, new Promise<string>((r) => setTimeout(() => r("still asleep"), 2000))]);
  assert.equal(settled, true, "the waiter ran its own fn");
  assert.ok(performance.now() - t0 < 2000);
  assert.equal(waiterRan, true);
  assert.equal(word(o), ONCE_COMPLETE);
});
