/**
 * LockCnt in one thread: every transition with QEMU's exact word values (S11's non-blocking
 * cases), the futex calls each path makes, and misuse / bad input refused without changes.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { atomicsFutex, DeadlockError, LockCnt, NotHeldError } from "../mod.ts";
import { countingFutex } from "../testing.ts";

const word = (l: LockCnt): number => Atomics.load(new Int32Array(l.handle.buffer, l.handle.byteOffset, 1), 0);
const setWord = (l: LockCnt, v: number): void => void Atomics.store(new Int32Array(l.handle.buffer, l.handle.byteOffset, 1), 0, v);

test("inc/dec step the count by 4; lock/unlock flip the low bits; no futex calls uncontended", () => {
  const futex = countingFutex(atomicsFutex);
  const lc = new LockCnt({ futex });
  assert.equal(word(lc), 0x0);
  lc.inc();
  assert.equal(word(lc), 0x4);
  assert.equal(lc.count, 1);
  lc.inc();
  assert.equal(word(lc), 0x8);
  lc.dec();
  lc.dec();
  assert.equal(word(lc), 0x0);
  lc.lock();
  assert.equal(word(lc), 0x1);
  assert.equal(lc.isLocked, true);
  lc.unlock();
  assert.equal(word(lc), 0x0);
  lc.inc();
  lc.lock(); // lock does not wait for visits
  assert.equal(word(lc), 0x5);
  lc.inc(); // a non-zero count passes a held lock (another instance would do the same)
  assert.equal(word(lc), 0x9);
  lc.unlock();
  assert.equal(word(lc), 0x8);
  lc.dec();
  lc.dec();
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
});

test("decAndLock: count 2 → false (0x4); count 1 → true holding the lock (0x1)", () => {
  const lc = new LockCnt();
  lc.inc();
  lc.inc();
  assert.equal(lc.decAndLock(), false);
  assert.equal(word(lc), 0x4);
  assert.equal(lc.decAndLock(), true);
  assert.equal(word(lc), 0x1);
  assert.equal(lc.held, true);
  lc.unlock();
  assert.equal(word(lc), 0x0);
});

test("decIfLock: count ≥ 2 → false with the word unchanged; count 1 → true (0x1); incAndUnlock → 0x4", () => {
  const lc = new LockCnt();
  lc.inc();
  lc.inc();
  lc.inc();
  assert.equal(lc.decIfLock(), false);
  assert.equal(word(lc), 0xc);
  lc.dec();
  assert.equal(lc.decIfLock(), false);
  assert.equal(word(lc), 0x8);
  lc.dec();
  assert.equal(lc.decIfLock(), true);
  assert.equal(word(lc), 0x1);
  lc.incAndUnlock();
  assert.equal(word(lc), 0x4);
  lc.dec();
  assert.equal(word(lc), 0x0);
});

test("unlock and incAndUnlock of a WAITING lock wake exactly one", () => {
  const futex = countingFutex(atomicsFutex);
  const lc = new LockCnt({ futex });
  lc.lock();
  setWord(lc, 0x2); // as a contender would leave it
  lc.unlock();
  assert.equal(word(lc), 0x0);
  assert.equal(futex.calls.wakeOne, 1);
  lc.lock();
  setWord(lc, 0x6);
  lc.incAndUnlock();
  assert.equal(word(lc), 0x8);
  assert.equal(futex.calls.wakeOne, 2);
  assert.equal(futex.calls.wakeAll, 0);
});

test("misuse is refused and changes nothing", () => {
  const lc = new LockCnt();
  assert.throws(() => lc.dec(), { name: "RangeError", message: /count is 0.*once per inc/ });
  assert.throws(() => lc.decAndLock(), RangeError);
  assert.throws(() => lc.decIfLock(), RangeError);
  assert.equal(word(lc), 0);
  assert.throws(() => lc.unlock(), NotHeldError);
  assert.throws(() => lc.incAndUnlock(), NotHeldError);
  assert.equal(word(lc), 0);
  lc.lock();
  assert.throws(() => lc.inc(), DeadlockError); // count 0 + own lock: inc could never return
  assert.throws(() => lc.lock(), DeadlockError);
  assert.equal(word(lc), 1);
  const other = LockCnt.from(lc.handle);
  assert.throws(() => other.unlock(), /does not hold/);
  assert.equal(word(lc), 1);
  lc.unlock();
});

test("foreign handles and corrupted words are refused", () => {
  const sab = new SharedArrayBuffer(8);
  const w = new Int32Array(sab);
  w[0] = 0x7; // lock bits 3
  assert.throws(() => LockCnt.from({ buffer: sab, byteOffset: 0 }), { name: "TypeError", message: /no LockCnt state/ });
  w[1] = -4;
  assert.throws(() => LockCnt.from({ buffer: sab, byteOffset: 4 }), TypeError);
  assert.throws(() => LockCnt.from({ buffer: sab, byteOffset: 0, kind: "Mutex" }), /belongs to a Mutex/);
  assert.throws(() => new LockCnt({ buffer: sab, byteOffset: 3 }), RangeError);
  assert.deepEqual([...w], [0x7, -4]);
});
