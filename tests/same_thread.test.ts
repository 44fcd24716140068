/**
 * The per-thread rules, where one thread mixes blocking and async calls on one word:
 *   - a blocking wait beside a pending async wait of the same thread on the same word would
 *     lose its wakeup (the engine may hand the only wake to the older async waiter, whose thread
 *     is the blocked one): DeadlockError at once, naming both — or, for the event, whose set()
 *     wakes everyone, success within 1 s of the release;
 *   - an async lock while another task of this thread holds the lock waits for that task;
 *   - a blocking lock of a word this thread holds through another instance: DeadlockError.
 * The releases come from a real worker (tests/workers/release_later.ts) 450 ms later.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { DeadlockError, keepAliveCount, LockCnt, ManualResetEvent, Mutex, Semaphore } from "../mod.ts";
import { testScript } from "./support/runtime.ts";

const HOLD_MS = 450;

/** Start the releasing worker; resolves once it holds, with a promise of its release time. */
async function releaser(kind: string, handle: unknown): Promise<{ released: Promise<number>; worker: Worker }> {
  const worker = new Worker(testScript("workers/release_later"), { workerData: { kind, handle, holdMs: HOLD_MS } });
  let onReleased!: (t: number) => void;
  const released = new Promise<number>((r) => (onReleased = r));
  await new Promise<void>((resolve, reject) => {
    worker.on("message", (m: { held?: boolean; released?: number }) => {
      if (m.held) resolve();
      if (m.released !== undefined) onReleased(m.released);
    });
    worker.once("error", reject);
  });
  return { released, worker };
}

const now = (): number => performance.now() + performance.timeOrigin;

test("Mutex: blocking lock beside this thread's pending lockAsync → DeadlockError at once; the async lock still gets it", { timeout: 30_000 }, async () => {
  const a = new Mutex();
  const b = Mutex.from(a.handle);
  const { released, worker } = await releaser("Mutex", a.handle);
  try {
    const pending = a.lockAsync({ timeout: 10_000 });
    const t0 = now();
    assert.throws(() => b.lock(3000), (e: unknown) =>
      e instanceof DeadlockError && /Mutex\.lock: this thread has a pending Mutex\.lockAsync/.test(e.message));
    assert.throws(() => b.lock(), DeadlockError);
    assert.ok(now() - t0 < 1000, "refused at once");
    assert.equal(await pending, true);
    assert.ok(now() - (await released) < 1000, "the async lock got it within 1 s of the release");
    a.unlock();
    assert.equal(b.lock(1000), true, "with nothing pending the blocking lock works again");
    b.unlock();
  } finally {
    await worker.terminate();
  }
  assert.equal(keepAliveCount(), 0);
});

test("Semaphore: blocking acquire beside this thread's pending acquireAsync → DeadlockError; the async one gets the permit", { timeout: 30_000 }, async () => {
  const s = new Semaphore(0);
  const other = Semaphore.from(s.handle);
  const { released, worker } = await releaser("Semaphore", s.handle);
  try {
    const pending = s.acquireAsync({ timeout: 10_000 });
    const t0 = now();
    assert.throws(() => other.acquire(3000), { name: "DeadlockError", message: /pending Semaphore\.acquireAsync/ });
    assert.ok(now() - t0 < 1000);
    assert.equal(await pending, true);
    assert.ok(now() - (await released) < 1000);
    assert.equal(s.value, 0);
  } finally {
    await worker.terminate();
  }
});

test("LockCnt: blocking lock/inc beside this thread's pending lockAsync/incAsync → DeadlockError", { timeout: 30_000 }, async () => {
  const lc = new LockCnt();
  const other = LockCnt.from(lc.handle);
  const { released, worker } = await releaser("LockCnt", lc.handle);
  try {
    const locking = lc.lockAsync({ timeout: 10_000 });
    const visiting = other.incAsync({ timeout: 10_000 });
    assert.throws(() => other.lock(3000), { name: "DeadlockError", message: /pending LockCnt\.(lockAsync|incAsync)/ });
    assert.throws(() => other.inc(3000), DeadlockError);
    assert.equal(await locking, true);
    assert.ok(now() - (await released) < 1000);
    lc.unlock();
    assert.equal(await visiting, true);
    assert.equal(lc.count, 1);
    other.dec();
  } finally {
    await worker.terminate();
  }
});

test("ManualResetEvent: a blocking wait beside a pending waitAsync succeeds (set wakes everyone) within 1 s of the set", { timeout: 30_000 }, async () => {
  const ev = new ManualResetEvent();
  const { released, worker } = await releaser("ManualResetEvent", ev.handle);
  try {
    const pending = ev.waitAsync({ timeout: 10_000 });
    const t0 = now();
    assert.equal(ev.wait(3000), true);
    const t1 = now();
    assert.ok(t1 - (await released) < 1000, "woken by the set, not by its timeout");
    assert.ok(t1 - t0 < 2500);
    assert.equal(await pending, true);
  } finally {
    await worker.terminate();
  }
});

test("lockAsync while another task of this thread holds the lock waits for that task's unlock", { timeout: 30_000 }, async () => {
  const m = new Mutex();
  const other = Mutex.from(m.handle);
  assert.equal(m.lock(), true); // held by this thread's "first task"
  const second = m.lockAsync({ timeout: 5000 }); // same instance
  const third = other.lockAsync({ timeout: 5000 }); // another instance
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(m.held, true);
  m.unlock();
  const firstBack = await Promise.race([second.then(() => "second"), third.then(() => "third")]);
  const next = firstBack === "second" ? m : other;
  assert.equal(next.held, true);
  next.unlock();
  assert.equal(await second, true);
  assert.equal(await third, true);
  (firstBack === "second" ? other : m).unlock();
  assert.equal(m.isLocked, false);
  assert.equal(keepAliveCount(), 0);
});
