/**
 * Property-based tests (fast-check):
 *   1. random sequences of non-blocking operations on each primitive, in one thread, against a
 *      sequential reference model: same results, same errors, and the exact word the model
 *      predicts after every step;
 *   2. random values (fc.anything()) as the arguments of every public entry point: each call is
 *      either accepted with the documented result or refused with a TypeError/RangeError (or a
 *      named misuse error) that names the API — never another error, a hang, or a changed word.
 * Primitives are kept in states where a valid blocking call returns at once, so no input hangs.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { DeadlockError, LockCnt, ManualResetEvent, Mutex, NotHeldError, Semaphore } from "../mod.ts";
import { seedBase } from "./support/runtime.ts";

const runs = { numRuns: 300, seed: 20261127 + seedBase };
const wordOf = (h: { buffer: ArrayBufferLike; byteOffset: number }): number =>
  Atomics.load(new Int32Array(h.buffer as SharedArrayBuffer, h.byteOffset, 1), 0);

/** Run `f`; return "ok:<value>" or the error's name, so results compare with a model. */
function outcome(f: () => unknown): string {
  try {
    return `ok:${String(f())}`;
  } catch (e) {
    return (e as Error).name;
  }
}

test("ManualResetEvent behaves like a boolean flag under random set/reset/poll", { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(fc.boolean(), fc.array(fc.constantFrom("set", "reset", "wait0", "isSet"), { maxLength: 60 }), (initial, ops) => {
      const ev = new ManualResetEvent({ set: initial });
      let model = initial;
      for (const op of ops) {
        if (op === "set") (ev.set(), (model = true));
        else if (op === "reset") (ev.reset(), (model = false));
        else if (op === "wait0") assert.equal(ev.wait(0), model);
        else assert.equal(ev.isSet, model);
        assert.equal(wordOf(ev.handle), model ? 0 : 1);
      }
    }),
    runs,
  );
});

test("Mutex matches a holder model under random tryLock/lock(0)/unlock through two instances (lock(0) polls, even for the holder)", { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.constantFrom("tryLock", "lock0", "unlock"), fc.integer({ min: 0, max: 1 })), { maxLength: 60 }), (ops) => {
      const a = new Mutex();
      const insts = [a, Mutex.from(a.handle)];
      let holder = -1;
      for (const [op, i] of ops) {
        const m = insts[i];
        let expected: string;
        if (op === "unlock") {
          expected = holder === i ? "ok:undefined" : "NotHeldError";
          if (holder === i) holder = -1;
        } else {
          expected = holder === -1 ? "ok:true" : "ok:false";
          if (holder === -1) holder = i;
        }
        const got = outcome(() => (op === "tryLock" ? m.tryLock() : op === "lock0" ? m.lock(0) : m.unlock()));
        assert.equal(got, expected, `${op} on instance ${i}`);
        assert.equal(wordOf(a.handle), holder === -1 ? 0 : 1);
        assert.equal(insts[0].held, holder === 0);
        assert.equal(insts[1].held, holder === 1);
      }
    }),
    runs,
  );
});

test("Semaphore matches a counter model under random tryAcquire/acquire(0)/release(n)", { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 20 }),
      fc.integer({ min: 0, max: 20 }),
      fc.array(fc.oneof(fc.constant<["try"]>(["try"]), fc.constant<["acq0"]>(["acq0"]), fc.tuple(fc.constant("rel" as const), fc.integer({ min: 1, max: 8 }))), { maxLength: 60 }),
      (max, init, ops) => {
        fc.pre(init <= max);
        const s = new Semaphore(init, { max });
        let count = init;
        for (const op of ops) {
          if (op[0] === "rel") {
            const n = op[1];
            const expected = count + n > max ? "RangeError" : "ok:undefined";
            if (count + n <= max) count += n;
            assert.equal(outcome(() => s.release(n)), expected);
          } else {
            const expected = count > 0 ? "ok:true" : "ok:false";
            if (count > 0) count--;
            assert.equal(outcome(() => (op[0] === "try" ? s.tryAcquire() : s.acquire(0))), expected);
          }
          assert.equal(wordOf(s.handle), count);
          assert.equal(s.value, count);
        }
      },
    ),
    runs,
  );
});

test("LockCnt matches a (count, held) model under random operations in one thread", { timeout: 120_000 }, () => {
  const opNames = ["inc", "dec", "lock", "unlock", "decAndLock", "decIfLock", "incAndUnlock"] as const;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...opNames), { maxLength: 80 }), (ops) => {
      const lc = new LockCnt();
      let count = 0;
      let held = false;
      for (const op of ops) {
        let expected: string;
        switch (op) {
          case "inc":
            expected = held && count === 0 ? "DeadlockError" : "ok:true";
            if (expected.startsWith("ok")) count++;
            break;
          case "dec":
            expected = count === 0 ? "RangeError" : "ok:undefined";
            if (count > 0) count--;
            break;
          case "lock":
            expected = held ? "DeadlockError" : "ok:true";
            held = true;
            break;
          case "unlock":
          case "incAndUnlock":
            expected = held ? "ok:undefined" : "NotHeldError";
            if (held && op === "incAndUnlock") count++;
            held = false;
            break;
          case "decAndLock":
            if (count === 0) expected = "RangeError";
            else if (held && count < 2) expected = "DeadlockError";
            else if (count >= 2) (expected = "ok:false"), count--;
            else (expected = "ok:true"), (count = 0), (held = true);
            break;
          case "decIfLock":
            if (count === 0) expected = "RangeError";
            else if (held && count < 2) expected = "DeadlockError";
            else if (count >= 2) expected = "ok:false";
            else (expected = "ok:true"), (count = 0), (held = true);
            break;
        }
        const got = outcome(() => (lc[op] as () => unknown).call(lc));
        assert.equal(got, expected, `${op} with count ${count}, held ${held}`);
        assert.equal(wordOf(lc.handle), count * 4 + (held ? 1 : 0));
        assert.equal(lc.count, count);
        assert.equal(lc.held, held);
      }
    }),
    runs,
  );
});

// ---- random bad input on every public entry point ----

const allowed = new Set(["TypeError", "RangeError", "DeadlockError", "NotHeldError"]);
const apiName = /^(new )?(ManualResetEvent|Mutex|Semaphore|LockCnt)\b/;

/** Call f with a random argument: an error must be one of ours, naming the API. */
function refusedCleanly(f: () => unknown): boolean {
  try {
    const r = f();
    if (r instanceof Promise) throw new Error("use asyncRefusedCleanly");
    return true;
  } catch (e) {
    const err = e as Error;
    assert.ok(allowed.has(err.name), `unexpected ${err.name}: ${err.message}`);
    assert.match(err.message, apiName, `error message does not name the API: ${err.message}`);
    return false;
  }
}

async function asyncRefusedCleanly(p: () => Promise<unknown>): Promise<boolean> {
  try {
    await p();
    return true;
  } catch (e) {
    const err = e as Error;
    if (err.name === "AbortError" || err.name === "TimeoutError") return false; // a random AbortSignal that aborted
    assert.ok(allowed.has(err.name), `unexpected ${err.name}: ${err.message}`);
    assert.match(err.message, apiName, `error message does not name the API: ${err.message}`);
    return false;
  }
}

const anyArg = fc.oneof(
  fc.anything(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 1, 2.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 53, "1", null, undefined),
  fc.record({
    buffer: fc.constantFrom(new SharedArrayBuffer(8), new ArrayBuffer(8), new Int32Array(2), null),
    byteOffset: fc.oneof(fc.integer({ min: -8, max: 16 }), fc.constant("0")),
    set: fc.anything(),
    spin: fc.oneof(fc.integer({ min: -2, max: 5 }), fc.anything()),
    max: fc.oneof(fc.integer({ min: -2, max: 40 }), fc.anything()),
    timeout: fc.oneof(fc.integer({ min: -5, max: 5 }), fc.double({ min: 0, max: 3 }), fc.anything()),
    kind: fc.constantFrom(undefined, "Mutex", "Semaphore", "ManualResetEvent", "LockCnt"),
  }, { requiredKeys: [] }),
);

test("constructors and from() with random arguments: accepted or refused cleanly", { timeout: 120_000 }, () => {
  fc.assert(
    fc.property(anyArg, anyArg, (x, y) => {
      refusedCleanly(() => new ManualResetEvent(x as never));
      refusedCleanly(() => new Mutex(x as never));
      refusedCleanly(() => new LockCnt(x as never));
      refusedCleanly(() => new Semaphore(x as never, y as never));
      for (const C of [ManualResetEvent, Mutex, LockCnt, Semaphore]) refusedCleanly(() => C.from(x as never, y as never));
    }),
    runs,
  );
});

test("methods with random arguments: accepted with the documented result or refused, word unchanged on refusal", { timeout: 120_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(anyArg, async (x) => {
      // States where every valid call returns at once: a set event, a free mutex, permits available.
      const ev = new ManualResetEvent({ set: true });
      if (!refusedCleanly(() => ev.wait(x as never))) assert.equal(wordOf(ev.handle), 0);
      else assert.equal(ev.wait(x as never), true);
      if (await asyncRefusedCleanly(() => ev.waitAsync(x as never))) assert.equal(await ev.waitAsync(x as never), true);
      assert.equal(wordOf(ev.handle), 0);

      const m = new Mutex();
      if (refusedCleanly(() => m.lock(x as never))) {
        assert.equal(wordOf(m.handle), 1);
        m.unlock();
      }
      assert.equal(wordOf(m.handle), 0);
      if (await asyncRefusedCleanly(() => m.lockAsync(x as never))) m.unlock();
      assert.equal(wordOf(m.handle), 0);
      refusedCleanly(() => m.withLock(x as never));
      assert.equal(wordOf(m.handle), 0);

      const s = new Semaphore(5, { max: 10 });
      if (refusedCleanly(() => s.acquire(x as never))) s.release();
      assert.equal(wordOf(s.handle), 5);
      if (await asyncRefusedCleanly(() => s.acquireAsync(x as never))) s.release();
      assert.equal(wordOf(s.handle), 5);
      const before = wordOf(s.handle);
      if (refusedCleanly(() => s.release(x as never))) {
        assert.equal(wordOf(s.handle), before + (x === undefined ? 1 : (x as number)));
      } else {
        assert.equal(wordOf(s.handle), before);
      }
    }),
    { ...runs, numRuns: 200 },
  );
});

test("the misuse errors are the exported classes", () => {
  assert.ok(new DeadlockError("x") instanceof Error);
  assert.ok(new NotHeldError("x") instanceof Error);
});
