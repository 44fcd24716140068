/**
 * ManualResetEvent transitions with exact word values (QEMU's SET 0 / FREE 1 / BUSY -1), and
 * which futex calls each path makes (counting futex): no path that finds nobody waiting calls
 * the futex at all.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { atomicsFutex, EV_BUSY, EV_FREE, EV_SET, ManualResetEvent } from "../mod.ts";
import { countingFutex } from "../testing.ts";
import { afterNextLoad, type Armed } from "./support/interleave.ts";
import { scriptedFutex } from "./support/scripted_futex.ts";

function word(ev: ManualResetEvent): number {
  return Atomics.load(new Int32Array(ev.handle.buffer, ev.handle.byteOffset, 1), 0);
}

function forceWord(ev: ManualResetEvent, v: number): void {
  Atomics.store(new Int32Array(ev.handle.buffer, ev.handle.byteOffset, 1), 0, v);
}

test("encodings are QEMU's", () => {
  assert.equal(EV_SET, 0);
  assert.equal(EV_FREE, 1);
  assert.equal(EV_BUSY, -1);
});

test("a new event is FREE (1); { set: true } makes it SET (0)", () => {
  assert.equal(word(new ManualResetEvent()), 1);
  assert.equal(word(new ManualResetEvent({ set: false })), 1);
  assert.equal(word(new ManualResetEvent({ set: true })), 0);
  assert.equal(new ManualResetEvent().isSet, false);
  assert.equal(new ManualResetEvent({ set: true }).isSet, true);
});

test("set: FREE→SET and SET→SET make no futex call; BUSY→SET wakes all exactly once", () => {
  const futex = countingFutex(atomicsFutex);
  const ev = new ManualResetEvent({ futex });
  ev.set();
  assert.equal(word(ev), 0);
  ev.set();
  assert.equal(word(ev), 0);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
  forceWord(ev, EV_BUSY);
  ev.set();
  assert.equal(word(ev), 0);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 1 });
});

test("reset is an OR with 1: SET→FREE, FREE→FREE, BUSY stays BUSY", () => {
  const ev = new ManualResetEvent({ set: true });
  ev.reset();
  assert.equal(word(ev), 1);
  ev.reset();
  assert.equal(word(ev), 1);
  forceWord(ev, EV_BUSY);
  ev.reset();
  assert.equal(word(ev), -1);
});

test("wait on a set event returns true with no futex call and no write", () => {
  const futex = countingFutex(atomicsFutex);
  const ev = new ManualResetEvent({ futex, set: true });
  assert.equal(ev.wait(), true);
  assert.equal(ev.wait(0), true);
  assert.equal(ev.wait(10), true);
  assert.equal(word(ev), 0);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
});

test("wait(0) polls: false on FREE, word stays FREE, no futex call", () => {
  const futex = countingFutex(atomicsFutex);
  const ev = new ManualResetEvent({ futex });
  assert.equal(ev.wait(0), false);
  assert.equal(word(ev), 1);
  assert.equal(futex.calls.wait, 0);
});

test("a timed wait on FREE announces itself (FREE→BUSY), sleeps on BUSY, times out, leaves BUSY", () => {
  const futex = countingFutex(atomicsFutex);
  const ev = new ManualResetEvent({ futex, spin: 0 });
  const t0 = performance.now();
  assert.equal(ev.wait(15), false);
  assert.ok(performance.now() - t0 >= 14, "returned before its timeout");
  assert.equal(word(ev), -1);
  assert.ok(futex.calls.wait >= 1);
  // The next set finds BUSY, so it must wake (once), and leaves SET.
  ev.set();
  assert.equal(word(ev), 0);
  assert.equal(futex.calls.wakeAll, 1);
  // reset after that goes back to FREE, never to BUSY.
  ev.reset();
  assert.equal(word(ev), 1);
});

test("an event set with no waiter issues no notify, across many set/reset rounds", () => {
  const futex = countingFutex(atomicsFutex);
  const ev = new ManualResetEvent({ futex });
  for (let i = 0; i < 1000; i++) {
    ev.set();
    assert.equal(ev.wait(0), true);
    ev.reset();
  }
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
});

test("from(handle) attaches without re-initialising; handles survive structuredClone", () => {
  const ev = new ManualResetEvent({ set: true });
  const same = ManualResetEvent.from(structuredClone(ev.handle));
  assert.equal(same.isSet, true); // not re-initialised to FREE
  same.reset();
  assert.equal(ev.isSet, false);
  same.set();
  assert.equal(ev.isSet, true);
  assert.equal(ev.handle.kind, "ManualResetEvent");
});

test("placement at a byte offset touches only its own word", () => {
  const sab = new SharedArrayBuffer(16);
  const all = new Int32Array(sab);
  all.fill(0x5a5a5a5a);
  const ev = new ManualResetEvent({ buffer: sab, byteOffset: 8 });
  assert.deepEqual([...all], [0x5a5a5a5a, 0x5a5a5a5a, 1, 0x5a5a5a5a]);
  ev.set();
  ev.reset();
  assert.deepEqual([...all], [0x5a5a5a5a, 0x5a5a5a5a, 1, 0x5a5a5a5a]);
  assert.deepEqual({ ...ev.handle }, { buffer: sab, byteOffset: 8, kind: "ManualResetEvent", domain: "atomics" });
});

test("a pending async wait marks BUSY; set wakes it (one wakeAll) and it resolves true", async () => {
  const futex = countingFutex(atomicsFutex);
  const ev = new ManualResetEvent({ futex });
  const p = ev.waitAsync({ timeout: 5000 });
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(word(ev), -1);
  ev.set();
  assert.equal(await p, true);
  assert.equal(futex.calls.wakeAll, 1);
  assert.equal(word(ev), 0);
});

test("a waiter's announce is a CAS: a set between its read of FREE and the announce is kept, and the waiter returns true (wait and waitAsync)", { timeout: 10_000 }, async () => {
  for (const form of ["wait", "waitAsync"]) {
    const futex = scriptedFutex();
    const ev = new ManualResetEvent({ futex, spin: 0 });
    const setter = ManualResetEvent.from(ev.handle, { futex }); // another thread
    const view = new Int32Array(ev.handle.buffer, ev.handle.byteOffset, 1);
    let sleeps = 0;
    let armed: Armed | undefined;
    futex.hook = () => {
      if (sleeps++ > 0) return "timed-out"; // a second sleep would last until the deadline: nobody sets again
      setter.set(); // wakes us ...
      setter.reset(); // ... and is reset before we look: we find FREE
      armed = afterNextLoad(view, 0, () => setter.set()); // set again right after that look (FREE → SET, no wake needed)
      return "ok";
    };
    let ok: boolean;
    try {
      ok = form === "wait" ? ev.wait(30) : await ev.waitAsync({ timeout: 30 });
    } finally {
      armed?.restore();
    }
    assert.equal(armed?.fired, true);
    assert.equal(ok, true, `${form}: the set after its look is seen (its announce CAS fails on SET)`);
    assert.equal(word(ev), EV_SET, `${form}: the announce did not overwrite SET`);
    assert.equal(sleeps, 1, `${form}: it slept once`);
  }
});

test("set reads and replaces the word in one exchange: a waiter that announces BUSY between the setter's peek and its write is woken", { timeout: 10_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const ev = new ManualResetEvent({ futex });
  const view = new Int32Array(ev.handle.buffer, ev.handle.byteOffset, 1);
  let waiter: Promise<boolean> | undefined;
  const armed = afterNextLoad(view, 0, () => { // right after set()'s peek at FREE, a waiter (this thread, async) announces and sleeps
    waiter = ManualResetEvent.from(ev.handle, { futex }).waitAsync({ timeout: 3000 });
  });
  const t0 = performance.now();
  try {
    ev.set();
  } finally {
    armed.restore();
  }
  assert.equal(armed.fired, true);
  assert.equal(futex.calls.waitAsync, 1, "the waiter slept on BUSY");
  assert.equal(futex.calls.wakeAll, 1, "set found BUSY and woke all");
  assert.equal(await waiter, true);
  assert.ok(performance.now() - t0 < 1500, "woken by the set, not by its timeout");
  assert.equal(word(ev), EV_SET);
});
