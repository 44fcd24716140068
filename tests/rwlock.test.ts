/**
 * RwLock: exact values of both words and the futex calls of every transition (fast paths make
 * none; each unlock wakes exactly what its waiting bits ask for), writer preference, timed and
 * async acquisition (a timed-out reader or writer leaves its mark; an aborted writer that took a
 * writer's wake passes it on), the per-thread rules, guards and with-forms, bad input, handles.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  atomicsFutex,
  DeadlockError,
  Mutex,
  NotHeldError,
  RW_MASK,
  RW_MAX_READERS,
  RW_READ_LOCKED,
  RW_READERS_WAITING,
  RW_WRITE_LOCKED,
  RW_WRITERS_WAITING,
  RwLock,
  type WordHandle,
} from "../mod.ts";
import { countingFutex } from "../testing.ts";
import { afterNextLoad, type Armed } from "./support/interleave.ts";
import { scriptedFutex } from "./support/scripted_futex.ts";

const WW = RW_WRITERS_WAITING;
const RW = RW_READERS_WAITING;
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** [state, notify] of a lock. */
function words(rw: RwLock): [number, number] {
  const v = new Int32Array(rw.handle.buffer, rw.handle.byteOffset, 2);
  return [Atomics.load(v, 0), Atomics.load(v, 1)];
}
function setState(rw: RwLock, s: number): void {
  Atomics.store(new Int32Array(rw.handle.buffer, rw.handle.byteOffset, 1), 0, s);
}

test("the encoding is Rust std's: READ_LOCKED 1, MASK 2^30-1 = WRITE_LOCKED, MAX_READERS MASK-1, bits 30 and 31", { timeout: 10_000 }, () => {
  assert.deepEqual(
    [RW_READ_LOCKED, RW_MASK, RW_WRITE_LOCKED, RW_MAX_READERS, RW_READERS_WAITING, RW_WRITERS_WAITING],
    [1, 0x3fffffff, 0x3fffffff, 0x3ffffffe, 0x40000000, -0x80000000],
  );
});

test("uncontended paths: exact words, no futex call", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const rw = new RwLock({ futex });
  assert.deepEqual(words(rw), [0, 0]);
  assert.equal(rw.tryRead(), true);
  assert.equal(rw.readLock(), true);
  assert.deepEqual(words(rw), [2, 0]);
  assert.equal(rw.readers, 2);
  assert.equal(rw.readHeld, true);
  assert.equal(rw.tryWrite(), false);
  assert.equal(rw.writeLock(0), false, "writeLock(0) polls");
  rw.readUnlock();
  rw.readUnlock();
  assert.deepEqual(words(rw), [0, 0]);
  assert.equal(rw.readHeld, false);
  assert.equal(rw.writeLock(), true);
  assert.deepEqual(words(rw), [RW_WRITE_LOCKED, 0]);
  assert.equal(rw.isWriteLocked, true);
  assert.equal(rw.writeHeld, true);
  assert.equal(rw.readers, 0);
  assert.equal(rw.tryRead(), false);
  assert.equal(rw.tryWrite(), false);
  rw.writeUnlock();
  assert.equal(rw.tryWrite(), true);
  rw.writeUnlock();
  assert.deepEqual(words(rw), [0, 0]);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
});

test("writer preference: no new reader enters while WRITERS_WAITING (or READERS_WAITING) is set", { timeout: 10_000 }, () => {
  const rw = new RwLock();
  for (const s of [1 | WW, WW, 1 | RW | WW, RW]) {
    setState(rw, s);
    assert.equal(rw.tryRead(), false, `tryRead on 0x${(s >>> 0).toString(16)}`);
    assert.equal(rw.readLock(0), false);
    assert.equal(words(rw)[0], s, "a refused poll changes nothing");
  }
  setState(rw, WW | RW); // unlocked with both bits: a writer takes it, keeping them
  assert.equal(rw.tryWrite(), true);
  assert.equal(words(rw)[0], WW | RW | RW_WRITE_LOCKED);
  setState(rw, RW_WRITE_LOCKED);
  rw.writeUnlock();
});

test("a timed-out reader leaves READERS_WAITING on a write-locked word; it passes no wake on", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const rw = new RwLock({ futex, spin: 0 });
  setState(rw, RW_WRITE_LOCKED); // another thread writes
  const t0 = performance.now();
  assert.equal(rw.readLock(20), false);
  assert.ok(performance.now() - t0 >= 19);
  assert.deepEqual(words(rw), [RW_WRITE_LOCKED | RW, 0]);
  assert.ok(futex.calls.wait >= 1);
  assert.deepEqual([futex.calls.wakeOne, futex.calls.wakeAll], [0, 0]);
  assert.equal(rw.readHeld, false);
  setState(rw, 0);
});

test("a timed-out writer leaves WRITERS_WAITING on a read-locked word; the readers' unlock will wake, so no wake of its own", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const rw = new RwLock({ futex, spin: 0 });
  setState(rw, 3); // three readers elsewhere
  assert.equal(rw.writeLock(20), false);
  assert.deepEqual(words(rw), [3 | WW, 0]);
  assert.ok(futex.calls.wait >= 1);
  assert.deepEqual([futex.calls.wakeOne, futex.calls.wakeAll], [0, 0]);
  assert.equal(rw.writeHeld, false);
  setState(rw, 0);
});

test("readUnlock: the last reader out wakes a writer (notify +1, wake one), others wake nobody", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const rw = new RwLock({ futex });
  rw.readLock();
  rw.readLock();
  setState(rw, 2 | WW); // a writer arrived and marked
  rw.readUnlock();
  assert.deepEqual(words(rw), [1 | WW, 0], "not the last reader: no wake");
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
  rw.readUnlock();
  assert.deepEqual(words(rw), [0, 1], "WRITERS_WAITING cleared, the notify sequence bumped");
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 1, wakeAll: 0 });
});

test("readUnlock with readers and writers waiting: one writer woken, then the readers (the contract cannot say a writer slept)", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const rw = new RwLock({ futex });
  rw.readLock();
  setState(rw, 1 | WW | RW);
  rw.readUnlock();
  assert.deepEqual(words(rw), [0, 1]);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 1, wakeAll: 1 });
});

test("writeUnlock wakes per the bits left: writers → one writer; readers → all readers; none → nothing", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const rw = new RwLock({ futex });
  const cases: [number, [number, number], { wakeOne: number; wakeAll: number }][] = [
    [0, [0, 0], { wakeOne: 0, wakeAll: 0 }],
    [WW, [0, 1], { wakeOne: 1, wakeAll: 0 }],
    [RW, [0, 1], { wakeOne: 1, wakeAll: 1 }],
    [RW | WW, [0, 2], { wakeOne: 2, wakeAll: 2 }],
  ];
  for (const [bits, after, calls] of cases) {
    rw.writeLock();
    setState(rw, RW_WRITE_LOCKED | bits);
    rw.writeUnlock();
    assert.deepEqual(words(rw), after, `bits 0x${(bits >>> 0).toString(16)}`);
    assert.deepEqual({ wakeOne: futex.calls.wakeOne, wakeAll: futex.calls.wakeAll }, calls);
  }
  assert.equal(futex.calls.wait, 0);
});

test("a writer that slept takes the lock keeping WRITERS_WAITING (others may still sleep)", { timeout: 10_000 }, () => {
  const futex = scriptedFutex();
  const rw = new RwLock({ futex, spin: 0 });
  setState(rw, 1); // a reader elsewhere
  futex.hook = () => { // that reader leaves (its unlock clears the mark and wakes us) while we sleep
    setState(rw, 0);
    return "ok";
  };
  assert.equal(rw.writeLock(1000), true);
  assert.deepEqual(words(rw), [RW_WRITE_LOCKED | WW, 0]);
  assert.equal(futex.calls.wait, 1);
  rw.writeUnlock();
  assert.deepEqual(words(rw), [0, 1], "its unlock wakes the writers that may sleep");
});

test("an aborted writeLockAsync that took a writer's wake passes it on; one still marked passes none", { timeout: 10_000 }, async () => {
  const futex = scriptedFutex(() => "pending");
  const rw = new RwLock({ futex });
  assert.equal(rw.tryRead(), true);
  const ac = new AbortController();
  const p = rw.writeLockAsync({ signal: ac.signal }); // marks WRITERS_WAITING, sleeps on the notify word
  assert.deepEqual(words(rw), [1 | WW, 0]);
  assert.equal(futex.calls.waitAsync, 1);
  rw.readUnlock(); // clears the mark, notify 1, wakes one writer: the wake is ours ...
  assert.deepEqual(words(rw), [0, 1]);
  ac.abort("gone"); // ... and we leave with it
  await assert.rejects(p, (e) => e === "gone");
  assert.deepEqual(words(rw), [0, 2], "the give-up bumped the sequence ...");
  assert.equal(futex.calls.wakeOne, 2, "... and woke one writer");
  setState(rw, 2); // readers elsewhere; this writer marks and sleeps, then is aborted with the mark still there
  const ac2 = new AbortController();
  const p2 = rw.writeLockAsync({ signal: ac2.signal });
  ac2.abort("gone");
  await assert.rejects(p2, (e) => e === "gone");
  assert.deepEqual(words(rw), [2 | WW, 2]);
  assert.equal(futex.calls.wakeOne, 2, "the readers' unlock will wake: nothing to pass on");
  setState(rw, 0);
});

test("async forms: readers and a writer queue behind a writer; timeouts resolve false", { timeout: 10_000 }, async () => {
  const rw = new RwLock();
  rw.writeLock();
  const order: string[] = [];
  const r1 = rw.readLockAsync().then((ok) => order.push(`r1 ${ok}`));
  const w2 = rw.writeLockAsync().then((ok) => order.push(`w2 ${ok}`));
  assert.equal(await rw.readLockAsync({ timeout: 5 }), false);
  assert.equal(await rw.writeLockAsync({ timeout: 5 }), false);
  await tick(5);
  rw.writeUnlock(); // both kinds waiting: a writer and the readers are woken; they race for it
  await Promise.race([r1, w2]);
  await tick(10);
  if (rw.writeHeld) rw.writeUnlock();
  if (rw.readHeld) rw.readUnlock();
  await Promise.all([r1, w2]);
  if (rw.writeHeld) rw.writeUnlock();
  if (rw.readHeld) rw.readUnlock();
  assert.deepEqual(order.sort(), ["r1 true", "w2 true"]);
  assert.equal(words(rw)[0] & RW_MASK, 0);
});

test("per thread: writeLock while holding a read or the write lock, readLock while writing, readLock beside a waiting writer", { timeout: 10_000 }, async () => {
  const a = new RwLock({ spin: 0 });
  const b = RwLock.from(a.handle);
  a.readLock();
  assert.throws(() => a.writeLock(), { name: "DeadlockError", message: /holds a read lock/ });
  assert.throws(() => b.writeLock(1000), DeadlockError);
  setState(a, 1 | WW); // a writer elsewhere waits for our read lock: a second read lock would have to sleep
  const t0 = performance.now();
  assert.throws(() => b.readLock(1000), { name: "DeadlockError" });
  assert.ok(performance.now() - t0 < 500, "refused, not timed out");
  setState(a, 1);
  a.readUnlock();
  assert.equal(b.readHeld, false);
  a.writeLock();
  assert.throws(() => a.writeLock(), { name: "DeadlockError", message: /write lock \(this instance\)/ });
  assert.throws(() => b.writeLock(), { name: "DeadlockError", message: /another instance/ });
  assert.throws(() => b.readLock(), { name: "DeadlockError", message: /holds the write lock/ });
  assert.throws(() => b.writeUnlock(), { name: "NotHeldError", message: /instance that locked/ });
  assert.throws(() => a.readUnlock(), { name: "NotHeldError", message: /use writeUnlock/ });
  assert.deepEqual(words(a), [RW_WRITE_LOCKED, 0], "refused calls changed nothing");
  const pending = b.writeLockAsync(); // another task waits for the write lock ...
  assert.throws(() => b.writeLock(50), { name: "DeadlockError" }); // (this thread holds it anyway)
  a.writeUnlock();
  assert.equal(await pending, true);
  b.writeUnlock();
  // a blocking writer beside this thread's pending async writer (held elsewhere)
  setState(a, 1);
  const p = a.writeLockAsync();
  assert.throws(() => b.writeLock(1000), { name: "DeadlockError", message: /pending RwLock.writeLockAsync/ });
  setState(a, 0);
  Atomics.add(new Int32Array(a.handle.buffer, 4, 1), 0, 1);
  atomicsFutex.wakeAll(new Int32Array(a.handle.buffer, 4, 1), 0);
  assert.equal(await p, true);
  a.writeUnlock();
});

test("misuse and corruption: unlocks without holding; a word something else wrote → TypeError naming it, unchanged", { timeout: 10_000 }, () => {
  const rw = new RwLock();
  assert.throws(() => rw.readUnlock(), { name: "NotHeldError", message: /no read lock/ });
  assert.throws(() => rw.writeUnlock(), { name: "NotHeldError", message: /not write-locked/ });
  rw.readLock();
  assert.throws(() => rw.writeUnlock(), { name: "NotHeldError", message: /use readUnlock/ });
  setState(rw, RW_WRITE_LOCKED);
  assert.throws(() => rw.readUnlock(), { name: "TypeError", message: /holds 1073741823 \(0x3fffffff: write-locked\)/ });
  assert.deepEqual(words(rw), [RW_WRITE_LOCKED, 0]);
  setState(rw, 0);
  rw.writeLock();
  setState(rw, 5);
  assert.throws(() => rw.writeUnlock(), { name: "TypeError", message: /holds 5 \(0x5: 5 readers\)/ });
  assert.deepEqual(words(rw), [5, 0]);
  assert.equal(rw.writeHeld, false);
  setState(rw, RW_MAX_READERS);
  assert.throws(() => rw.readLock(), { name: "RangeError", message: /read locks are held/ });
  assert.deepEqual(words(rw), [RW_MAX_READERS, 0], "refused before marking anything");
  setState(rw, 0);
});

test("guards and with-forms release on return, throw, promise settlement and dispose", { timeout: 10_000 }, async () => {
  const rw = new RwLock();
  assert.equal(rw.withRead(() => rw.readers), 1);
  assert.equal(rw.withWrite(() => rw.isWriteLocked), true);
  assert.throws(() => rw.withWrite(() => { throw new Error("boom"); }), /boom/);
  assert.equal(await rw.withRead(async () => { await tick(1); return rw.readers; }), 1);
  assert.equal(await rw.withReadAsync(() => rw.readers), 1);
  assert.equal(await rw.withWriteAsync(async () => rw.writeHeld), true);
  await assert.rejects(rw.withWriteAsync(() => { throw new Error("boom"); }), /boom/);
  {
    using _r = rw.read();
    assert.equal(rw.readers, 1);
  }
  {
    using _w = rw.write();
    assert.equal(rw.isWriteLocked, true);
  }
  {
    await using _r = await rw.readAsync();
    assert.equal(rw.readers, 1);
  }
  {
    await using _w = await rw.writeAsync();
    assert.equal(rw.writeHeld, true);
    assert.throws(() => rw.read(), DeadlockError);
  }
  const g = rw.write();
  g.release();
  g.release(); // once
  assert.deepEqual(words(rw), [0, 0]);
  setState(rw, RW_WRITE_LOCKED);
  assert.throws(() => rw.read(5), { name: "TimeoutError" });
  await assert.rejects(rw.writeAsync({ timeout: 5 }), { name: "TimeoutError" });
  await assert.rejects(rw.withReadAsync(() => 1, { timeout: 5 }), { name: "TimeoutError" });
  setState(rw, 0);
  assert.throws(() => rw.withRead(1 as unknown as () => void), TypeError);
  await assert.rejects(rw.withWriteAsync(null as unknown as () => void), TypeError);
});

test("bad input and placement: two words (8 bytes), offsets, foreign handles, live words refused", { timeout: 10_000 }, async () => {
  const rw = new RwLock();
  assert.equal(rw.handle.buffer.byteLength, 8);
  assert.throws(() => rw.readLock(-1), RangeError);
  assert.throws(() => rw.writeLock(0.5), RangeError);
  assert.throws(() => rw.writeLock("1" as unknown as number), TypeError);
  await assert.rejects(rw.readLockAsync({ timeout: -1 }), RangeError);
  await assert.rejects(rw.writeLockAsync({ signal: AbortSignal.abort("r") }), (e) => e === "r");
  const sab = new SharedArrayBuffer(16);
  assert.throws(() => new RwLock({ buffer: sab, byteOffset: 12 }), { name: "RangeError", message: /8 bytes, so byteOffset must be ≤ 8/ });
  assert.throws(() => new RwLock({ buffer: sab, byteOffset: 16 }), RangeError);
  assert.throws(() => new RwLock({ buffer: sab, byteOffset: 6 }), RangeError);
  assert.throws(() => new RwLock({ buffer: new ArrayBuffer(8) }), TypeError);
  assert.throws(() => new RwLock({ byteOffset: 8 }), RangeError);
  const placed = new RwLock({ buffer: sab, byteOffset: 8 });
  assert.equal(placed.tryWrite(), true);
  assert.deepEqual(Array.from(new Int32Array(sab)), [0, 0, RW_WRITE_LOCKED, 0]);
  assert.throws(() => new RwLock({ buffer: sab, byteOffset: 8 }), DeadlockError);
  const other = RwLock.from(placed.handle);
  assert.equal(other.isWriteLocked, true);
  assert.throws(() => RwLock.from({ ...placed.handle, byteOffset: 12 }), { name: "RangeError", message: /8 bytes/ });
  assert.throws(() => RwLock.from(new Mutex().handle), /belongs to a Mutex/);
  placed.writeUnlock();
  new Int32Array(sab)[0] = 3; // three readers of a lock some other thread uses
  assert.throws(() => new RwLock({ buffer: sab, byteOffset: 0 }), { name: "TypeError", message: /3 readers.*RwLock\.from/ });
  assert.throws(() => RwLock.from(null as unknown as WordHandle), TypeError);
  assert.ok(new NotHeldError("x") instanceof Error);
});

test("a writer reads the notify sequence before its last look at the state: a reader leaving right after that look is not slept through", { timeout: 10_000 }, async () => {
  for (const form of ["writeLock", "writeLockAsync"]) {
    let sleeps = 0;
    const futex = scriptedFutex(() => {
      sleeps++; // a real sleep: the notify word still held the sequence the writer read
      return "timed-out";
    });
    const rw = new RwLock({ futex, spin: 0 });
    const both = new Int32Array(rw.handle.buffer, rw.handle.byteOffset, 2);
    setState(rw, 1); // a reader elsewhere
    const readerLeaves = (): void => { // its readUnlock: last out with WRITERS_WAITING → clear it, notify + 1, wake a writer
      assert.equal(Atomics.compareExchange(both, 0, 1 | WW, 0), 1 | WW);
      Atomics.add(both, 1, 1);
      futex.wakeOne(new Int32Array(rw.handle.buffer, rw.handle.byteOffset + 4, 1), 0);
    };
    // The writer's first look finds the reader; it marks WRITERS_WAITING, reads the sequence and
    // looks at the state again: the reader leaves right after that second look.
    let second: Armed | undefined;
    const first = afterNextLoad(both, 0, () => {
      second = afterNextLoad(both, 0, readerLeaves);
    });
    let ok: boolean;
    try {
      ok = form === "writeLock" ? rw.writeLock(50) : await rw.writeLockAsync({ timeout: 50 });
    } finally {
      first.restore();
      second?.restore();
    }
    assert.equal(second?.fired, true);
    assert.equal(ok, true);
    assert.equal(sleeps, 0, `${form}: it never slept — the notify word had moved past the sequence it read`);
    assert.deepEqual(words(rw), [RW_WRITE_LOCKED | WW, 1]);
    rw.writeUnlock();
    assert.deepEqual(words(rw), [0, 2]);
  }
});
