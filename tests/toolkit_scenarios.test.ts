/**
 * Multi-worker scenarios for Barrier, Latch, Once and AutoResetEvent (docs/testing.md): barrier
 * phases in lockstep (10 000 generations at scale 1), a latch start gate, a Once raced by 8
 * workers, auto-reset hand-off counts. Plain futex (default spin), chaos futex (spurious wakes,
 * delays, half the workers never spin), half the workers async; and, under Deno and Bun on
 * Linux, the native OS futex (plain and chaos), where a wait slice that expires unwoken fails
 * the run. Sizes fit a 2-core machine; FUTEX_TEST_SCALE scales them.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { AutoResetEvent, Barrier, type Futex, Latch, Once } from "../mod.ts";
import { atomicsOnlySkip, loadNative, nativeSkip } from "../scripts/lib/native.ts";
import {
  ARRIVED,
  AUTO,
  BARRIER,
  BYTES,
  DONE,
  GIVEUPS,
  goLatch,
  LEADERS,
  MAX_ROUNDS,
  onceDone,
  onceRuns,
  onceWord,
  PASSED,
  PROGRESS,
  readyLatch,
  SETS,
} from "./support/gate_layout.ts";
import { rounds, runWorkers, seedBase, type WorkerReport } from "./support/runtime.ts";

const native = nativeSkip ? undefined : await loadNative();
/** OS wait slice of the native runs: nothing here legitimately sleeps this long unwoken. */
const SLICE_MS = 2000;

interface Mode {
  chaos: boolean;
  mixed: boolean;
  native: boolean;
}

function spawn(
  scenario: string,
  sab: SharedArrayBuffer,
  mode: Mode,
  roles: { role: string; id: number }[],
  n: number,
  waiters: number,
): Promise<WorkerReport[]> {
  const words = new Int32Array(sab);
  return runWorkers(
    "workers/gate_roles",
    roles.map((r, k) => ({
      scenario,
      ...r,
      sab,
      chaos: mode.chaos,
      native: mode.native,
      sliceMs: mode.native ? SLICE_MS : undefined,
      async: mode.mixed && k % 2 === 0, // half of the workers use the async forms
      seed: 6151 * (k + 1) + (mode.chaos ? 1 : 0) + (mode.mixed ? 2 : 0) + seedBase,
      spin: mode.chaos && k % 2 === 1 ? 0 : undefined,
      rounds: n,
      waiters,
      workers: roles.length,
    })),
    180_000,
    () => `words [${Array.from(words.slice(0, 2))}], auto ${words[AUTO / 4]}, progress ${words[PROGRESS]}, passed ${words[PASSED]}, sets ${words[SETS]}`,
    { progress: () => words[PROGRESS] + words[ARRIVED], ms: 15_000 },
  ).then((reports) => {
    if (mode.native) {
      const expired = reports.map((r) => r.expiredSlices as number);
      assert.ok(expired.every((e) => e === 0), `a sleeper waited a whole ${SLICE_MS} ms slice with its word unchanged (lost wakeup): ${expired}`);
    }
    return reports;
  });
}

const many = (role: string, count: number, from = 0): { role: string; id: number }[] =>
  Array.from({ length: count }, (_, id) => ({ role, id: id + from }));

const modes: Mode[] = [
  { chaos: false, mixed: false, native: false },
  { chaos: true, mixed: false, native: false },
  { chaos: false, mixed: true, native: false },
  { chaos: true, mixed: true, native: false },
  { chaos: false, mixed: false, native: true },
  { chaos: true, mixed: true, native: true },
];

for (const mode of modes) {
  const name = `${mode.native ? "native " : ""}${mode.chaos ? "chaos futex" : "plain futex"}${mode.mixed ? ", half the workers async" : ""}`;
  const k = (mode.chaos ? 0.25 : 1) * (mode.mixed ? 0.5 : 1) * (mode.native ? 0.25 : 1);
  const skip = mode.native ? nativeSkip : atomicsOnlySkip;
  const futex = (): Futex | undefined => (mode.native ? native!.nativeFutex() : undefined);

  test(`barrier: 3 parties in lockstep, one leader per generation (${name})`, { skip, timeout: 300_000 }, async (t) => {
    const sab = new SharedArrayBuffer(BYTES);
    const b = new Barrier(3, { buffer: sab, byteOffset: BARRIER, futex: futex() });
    const n = rounds(10_000 * k);
    const t0 = performance.now();
    const reports = await spawn("barrier", sab, mode, many("party", 3), n, 3);
    const w = new Int32Array(sab);
    assert.equal(w[LEADERS], n, "exactly one leader per generation");
    assert.equal(reports.reduce((s, r) => s + (r.leaders as number), 0), n);
    assert.equal(w[ARRIVED], 3 * n);
    assert.equal(b.generation, n);
    assert.equal(b.waiting, 0);
    assert.equal(b.isBroken, false);
    t.diagnostic(`${n} generations, ${Math.round(((performance.now() - t0) * 1000) / n)} µs each (incl. worker start)`);
  });

  test(`latch start gate: 4 waiters × rounds, DATA visible on release (${name})`, { skip, timeout: 300_000 }, async () => {
    const sab = new SharedArrayBuffer(BYTES);
    const n = Math.min(MAX_ROUNDS, rounds(1000 * k));
    for (let r = 0; r < n; r++) {
      new Latch(4, { buffer: sab, byteOffset: readyLatch(r), futex: futex() });
      new Latch(1, { buffer: sab, byteOffset: goLatch(r), futex: futex() });
    }
    await spawn("latch", sab, mode, [{ role: "driver", id: 0 }, ...many("waiter", 4, 1)], n, 4);
    for (let r = 0; r < n; r++) {
      assert.equal(Latch.from({ buffer: sab, byteOffset: goLatch(r) }, { futex: futex() }).count, 0);
      assert.equal(new Int32Array(sab)[readyLatch(r) / 4], 0, `ready latch ${r} ends 0 (WAITERS cleared)`);
    }
  });

  test(`once: 8 workers race each round, fn completes exactly once; a throwing first attempt is retried (${name})`, { skip, timeout: 300_000 }, async () => {
    const sab = new SharedArrayBuffer(BYTES);
    new Barrier(8, { buffer: sab, byteOffset: BARRIER, futex: futex() });
    const n = Math.min(MAX_ROUNDS, rounds(400 * k));
    for (let r = 0; r < n; r++) new Once({ buffer: sab, byteOffset: onceWord(r), futex: futex() });
    const reports = await spawn("once", sab, mode, many("racer", 8), n, 8);
    const w = new Int32Array(sab);
    for (let r = 0; r < n; r++) {
      assert.equal(w[onceDone(r)], 1, `round ${r}: fn completed once`);
      assert.equal(w[onceRuns(r)], r % 4 === 3 ? 2 : 1, `round ${r}: fn entries`);
      assert.equal(w[onceWord(r) / 4], 3, `round ${r}: COMPLETE`);
    }
    assert.equal(reports.reduce((s, r) => s + (r.ran as number), 0), n);
    assert.equal(reports.reduce((s, r) => s + (r.threw as number), 0), Math.floor(n / 4), "one planned failure per 4th round");
  });

  test(`auto-reset hand-off: 4 waiters × 2 setters, each effective set releases exactly one (${name})`, { skip, timeout: 300_000 }, async (t) => {
    const sab = new SharedArrayBuffer(BYTES);
    const ev = new AutoResetEvent({ buffer: sab, byteOffset: AUTO, futex: futex() });
    const n = rounds(5000 * k);
    const reports = await spawn("auto", sab, mode, [...many("waiter", 4), ...many("setter", 2, 4)], n, 4);
    const w = new Int32Array(sab);
    assert.equal(w[DONE], 1);
    assert.equal(w[PASSED], 4 * n);
    const left = ev.isSet ? 1 : 0;
    assert.equal(w[AUTO / 4] >>> 16, 0, "no waiter left announced");
    const sets = reports.slice(4).reduce((s, r) => s + (r.sets as number), 0);
    assert.equal(sets, w[SETS]);
    // Every effective set went to one pass or stays as the event's one set — except one a
    // waiter was given and gave back while the event was already set (the clamp), at most one
    // per give-up.
    const dropped = sets - w[PASSED] - left;
    assert.ok(dropped >= 0 && dropped <= w[GIVEUPS], `${sets} sets, ${w[PASSED]} passes, ${left} left set, ${w[GIVEUPS]} give-ups`);
    t.diagnostic(`${sets} sets, ${w[PASSED]} passes, ${w[GIVEUPS]} give-ups, ${dropped} sets given back into a set event`);
  });
}
