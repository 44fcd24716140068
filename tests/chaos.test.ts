/**
 * The chaos futex's knobs (adapters/chaos.ts): rates are checked, and the after-wake delay lands
 * after the wake itself — the woken side can run before the waker goes on.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { atomicsFutex } from "../mod.ts";
import { chaosFutex } from "../testing.ts";
import { testScript, until } from "./support/runtime.ts";

test("chaosFutex refuses a rate outside [0, 1], afterWakeRate included", () => {
  for (const key of ["spuriousRate", "delayRate", "afterWakeRate", "wakeAllRate"]) {
    assert.throws(() => chaosFutex(atomicsFutex, { [key]: 1.5 }), { name: "RangeError", message: new RegExp(`${key} must be a probability`) });
    assert.throws(() => chaosFutex(atomicsFutex, { [key]: "0.5" as unknown as number }), RangeError);
  }
});

test("afterWakeRate 1: every wake is followed by a delay before the waker goes on; 0: none", () => {
  const view = new Int32Array(new SharedArrayBuffer(4));
  const time = (afterWakeRate: number): number => {
    const f = chaosFutex(atomicsFutex, { seed: 3, delayRate: 0, wakeAllRate: 0, afterWakeRate, maxDelayMs: 20 });
    const t0 = performance.now();
    for (let i = 0; i < 10; i++) f.wakeOne(view, 0);
    for (let i = 0; i < 10; i++) f.wakeAll(view, 0);
    return performance.now() - t0;
  };
  const slow = time(1);
  const quick = time(0);
  assert.ok(slow > 40, `20 wakes with after-wake delays of up to 20 ms took ${slow.toFixed(1)} ms`);
  assert.ok(quick < slow / 4, `without after-wake delays 20 wakes took ${quick.toFixed(1)} ms (with: ${slow.toFixed(1)} ms)`);
});

test("the after-wake delay comes after the wake: the woken worker has run before wakeOne returns", { timeout: 20_000 }, async () => {
  const sab = new SharedArrayBuffer(16);
  const i32 = new Int32Array(sab);
  const f = chaosFutex(atomicsFutex, { seed: 5, delayRate: 0, wakeAllRate: 0, spuriousRate: 0, afterWakeRate: 1, maxDelayMs: 200 });
  const w = new Worker(testScript("workers/wait_then_flag"), { workerData: { sab } });
  try {
    let ran = 0;
    for (let round = 1; round <= 5; round++) {
      await until("the worker asleep", () => Atomics.load(i32, 1) === round);
      await new Promise((r) => setTimeout(r, 20));
      Atomics.store(i32, 0, round);
      f.wakeOne(i32, 0);
      if (Atomics.load(i32, 2) === round) ran++; // the worker ran inside the delay
      await until("the worker's round", () => Atomics.load(i32, 2) === round);
    }
    assert.ok(ran >= 3, `the woken worker had run before wakeOne returned in ${ran} of 5 rounds`);
  } finally {
    await w.terminate();
  }
});
