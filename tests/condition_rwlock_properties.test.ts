/**
 * Property-based tests (fast-check) for Condition and RwLock, as tests/properties.test.ts does
 * for the other primitives: random sequences of non-blocking operations in one thread against a
 * sequential model (same results, same errors, the exact words after every step), and random
 * values as arguments (accepted, or refused with a TypeError/RangeError naming the API, the
 * words unchanged).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { Condition, Mutex, RW_WRITE_LOCKED, RwLock } from "../mod.ts";
import { seedBase } from "./support/runtime.ts";

const runs = { numRuns: 300, seed: 20261128 + seedBase };

function outcome(f: () => unknown): string {
  try {
    return `ok:${String(f())}`;
  } catch (e) {
    return (e as Error).name;
  }
}

test("RwLock behaves like { readers, writer } under random try/poll/unlock sequences, word exact", { timeout: 120_000 }, () => {
  const ops = ["tryRead", "tryWrite", "readLock0", "writeLock0", "readUnlock", "writeUnlock", "readers"] as const;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...ops), { maxLength: 60 }), (seq) => {
      const rw = new RwLock();
      const words = new Int32Array(rw.handle.buffer, rw.handle.byteOffset, 2);
      let readers = 0;
      let writer = false;
      for (const op of seq) {
        let expected: string;
        let got: string;
        switch (op) {
          case "tryRead":
          case "readLock0":
            expected = `ok:${!writer}`;
            if (!writer) readers++;
            got = outcome(() => (op === "tryRead" ? rw.tryRead() : rw.readLock(0)));
            break;
          case "tryWrite":
          case "writeLock0":
            expected = `ok:${!writer && readers === 0}`;
            if (!writer && readers === 0) writer = true;
            got = outcome(() => (op === "tryWrite" ? rw.tryWrite() : rw.writeLock(0)));
            break;
          case "readUnlock":
            expected = readers > 0 ? "ok:undefined" : "NotHeldError";
            if (readers > 0) readers--;
            got = outcome(() => rw.readUnlock());
            break;
          case "writeUnlock":
            expected = writer ? "ok:undefined" : "NotHeldError";
            writer = false;
            got = outcome(() => rw.writeUnlock());
            break;
          default:
            expected = `ok:${readers}`;
            got = outcome(() => rw.readers);
        }
        assert.equal(got, expected, op);
        assert.equal(words[0], writer ? RW_WRITE_LOCKED : readers, `state word after ${op}`);
        assert.equal(words[1], 0, "nobody waited: the notify word never moves");
        assert.equal(rw.readHeld, readers > 0);
        assert.equal(rw.writeHeld, writer);
      }
    }),
    runs,
  );
});

test("Condition: the sequence counts notifies (wrapping); wait(m, 0) returns false holding m", { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(fc.integer({ min: -0x80000000, max: 0x7fffffff }), fc.array(fc.constantFrom("one", "all", "wait0"), { maxLength: 40 }), (start, seq) => {
      const sab = new SharedArrayBuffer(4);
      new Int32Array(sab)[0] = start;
      const c = new Condition({ buffer: sab });
      const m = new Mutex();
      let model = start;
      for (const op of seq) {
        if (op === "wait0") {
          m.lock();
          assert.equal(c.wait(m, 0), false);
          assert.equal(m.held, true);
          m.unlock();
        } else {
          if (op === "one") c.notifyOne();
          else c.notifyAll();
          model = (model + 1) | 0;
        }
        assert.equal(c.sequence, model);
      }
    }),
    runs,
  );
});

test("random arguments: accepted or refused with TypeError/RangeError naming the call, words unchanged", { timeout: 120_000 }, async () => {
  const rw = new RwLock();
  const c = new Condition();
  const m = new Mutex();
  const words = (): number[] => [...new Int32Array(rw.handle.buffer, rw.handle.byteOffset, 2), c.sequence, Atomics.load(new Int32Array(m.handle.buffer), 0)];
  await fc.assert(
    fc.asyncProperty(fc.anything(), fc.constantFrom("readLock", "writeLock", "readLockAsync", "writeLockAsync", "wait", "waitAsync", "from", "new"), async (arg, call) => {
      const before = words();
      // A valid timeout would make a wait really sleep (nobody notifies): poll instead.
      const t = arg === undefined || arg === Infinity || (typeof arg === "number" && Number.isInteger(arg) && arg >= 0) ? 0 : arg;
      let error: unknown;
      try {
        switch (call) {
          case "readLock":
            if (rw.readLock(arg as number)) rw.readUnlock();
            break;
          case "writeLock":
            if (rw.writeLock(arg as number)) rw.writeUnlock();
            break;
          case "readLockAsync":
            if (await rw.readLockAsync(arg as object)) rw.readUnlock();
            break;
          case "writeLockAsync":
            if (await rw.writeLockAsync(arg as object)) rw.writeUnlock();
            break;
          case "wait":
            m.lock();
            try { c.wait(m, t as number); } finally { if (m.held) m.unlock(); }
            break;
          case "waitAsync":
            m.lock();
            try { await c.waitAsync(m, { timeout: t as number }); } finally { if (m.held) m.unlock(); }
            break;
          case "from":
            RwLock.from(arg as never);
            Condition.from(arg as never);
            break;
          default:
            new RwLock(arg as object);
        }
      } catch (e) {
        error = e;
      }
      if (error !== undefined) {
        assert.ok(error instanceof TypeError || error instanceof RangeError, `${call}(${String(arg)}): ${String(error)}`);
        assert.match((error as Error).message, /RwLock|Condition/);
      }
      assert.deepEqual(words(), before, `${call} changed a word`);
    }),
    { ...runs, numRuns: 200 },
  );
});
