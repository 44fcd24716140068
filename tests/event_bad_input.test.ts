/**
 * Bad input to ManualResetEvent: each is refused with a TypeError or RangeError whose message
 * says what to pass, and the word is left as it was.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { type Futex, ManualResetEvent, type WordHandle } from "../mod.ts";

test("a non-shared ArrayBuffer is refused for the Atomics futex", () => {
  assert.throws(() => new ManualResetEvent({ buffer: new ArrayBuffer(8) }), {
    name: "TypeError",
    message: /needs the word in a SharedArrayBuffer.*new SharedArrayBuffer/,
  });
});

test("a typed array or other object as buffer is refused", () => {
  const sab = new SharedArrayBuffer(8);
  assert.throws(() => new ManualResetEvent({ buffer: new Int32Array(sab) as unknown as SharedArrayBuffer }), {
    name: "TypeError",
    message: /buffer must be a SharedArrayBuffer \(got Int32Array\).*view\.buffer/,
  });
  assert.throws(() => new ManualResetEvent({ buffer: "x" as unknown as SharedArrayBuffer }), TypeError);
});

test("misaligned, negative, fractional or out-of-range byte offsets are refused", () => {
  const sab = new SharedArrayBuffer(8);
  assert.throws(() => new ManualResetEvent({ buffer: sab, byteOffset: 2 }), { name: "RangeError", message: /multiple of 4/ });
  assert.throws(() => new ManualResetEvent({ buffer: sab, byteOffset: -4 }), { name: "RangeError", message: /multiple of 4/ });
  assert.throws(() => new ManualResetEvent({ buffer: sab, byteOffset: 4.5 }), RangeError);
  assert.throws(() => new ManualResetEvent({ buffer: sab, byteOffset: 8 }), {
    name: "RangeError",
    message: /out of range for a 8-byte buffer.*byteOffset ≤ 4/,
  });
  assert.throws(() => new ManualResetEvent({ buffer: sab, byteOffset: "4" as unknown as number }), TypeError);
  assert.throws(() => new ManualResetEvent({ byteOffset: 4 }), { name: "RangeError", message: /without a buffer/ });
});

test("a refused constructor leaves the caller's word untouched", () => {
  const sab = new SharedArrayBuffer(8);
  const all = new Int32Array(sab);
  all[0] = 42;
  assert.throws(() => new ManualResetEvent({ buffer: sab, set: "yes" as unknown as boolean }), TypeError);
  assert.throws(() => new ManualResetEvent({ buffer: sab, spin: -1 }), RangeError);
  assert.equal(all[0], 42);
});

test("bad timeouts are refused with what to pass, and change nothing", () => {
  const ev = new ManualResetEvent();
  const w = new Int32Array(ev.handle.buffer, 0, 1);
  assert.throws(() => ev.wait(-1), { name: "RangeError", message: /whole number of milliseconds ≥ 0.*Infinity/ });
  assert.throws(() => ev.wait(1.5), RangeError);
  assert.throws(() => ev.wait(NaN), RangeError);
  assert.throws(() => ev.wait(-Infinity), RangeError);
  assert.throws(() => ev.wait("5" as unknown as number), { name: "TypeError", message: /number of milliseconds/ });
  assert.equal(w[0], 1);
  assert.equal(ev.wait(0), false); // still usable after the refusals
});

test("bad async options reject with TypeError/RangeError", async () => {
  const ev = new ManualResetEvent();
  await assert.rejects(ev.waitAsync({ timeout: -1 }), RangeError);
  await assert.rejects(ev.waitAsync({ timeout: 0.5 }), RangeError);
  await assert.rejects(ev.waitAsync(5 as unknown as object), { name: "TypeError", message: /options must be an object/ });
  await assert.rejects(ev.waitAsync({ signal: {} as AbortSignal }), { name: "TypeError", message: /AbortSignal/ });
  assert.equal(new Int32Array(ev.handle.buffer, 0, 1)[0], 1);
});

test("bad spin and futex options are refused", () => {
  assert.throws(() => new ManualResetEvent({ spin: -1 }), { name: "RangeError", message: /pass 0 to never spin/ });
  assert.throws(() => new ManualResetEvent({ spin: 2.5 }), RangeError);
  assert.throws(() => new ManualResetEvent({ spin: "many" as unknown as number }), TypeError);
  assert.throws(() => new ManualResetEvent({ futex: {} as Futex }), { name: "TypeError", message: /Futex contract/ });
  assert.throws(() => new ManualResetEvent(7 as unknown as object), TypeError);
});

test("from() refuses non-handles, foreign kinds and words that hold no event state", () => {
  assert.throws(() => ManualResetEvent.from(null as unknown as WordHandle), { name: "TypeError", message: /handle must be an object/ });
  assert.throws(() => ManualResetEvent.from({} as WordHandle), { name: "TypeError", message: /no buffer/ });
  const sab = new SharedArrayBuffer(8);
  assert.throws(
    () => ManualResetEvent.from({ buffer: sab, byteOffset: 0, kind: "Mutex" }),
    { name: "TypeError", message: /belongs to a Mutex.*Mutex\.from/ },
  );
  new Int32Array(sab)[1] = 7;
  assert.throws(() => ManualResetEvent.from({ buffer: sab, byteOffset: 4 }), {
    name: "TypeError",
    message: /holds 7, which is no event state/,
  });
  assert.equal(new Int32Array(sab)[1], 7);
  assert.throws(() => ManualResetEvent.from({ buffer: sab, byteOffset: 6 }), RangeError);
});

test("a word overwritten with a non-event value makes wait throw instead of spinning", async () => {
  const ev = new ManualResetEvent();
  Atomics.store(new Int32Array(ev.handle.buffer, 0, 1), 0, 12345);
  assert.throws(() => ev.wait(1000), { name: "TypeError", message: /holds 12345, which is no event state/ });
  await assert.rejects(ev.waitAsync({ timeout: 1000 }), TypeError);
});
