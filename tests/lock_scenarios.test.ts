/**
 * Multi-worker scenarios for the locks (docs/testing.md): S9 MCS lock on the raw Futex
 * contract, mutex counter stress, S10 LockCnt random-op stress, S11 LockCnt blocking semantics,
 * S13 semaphore producers/consumers. Plain futex (default spin) and chaos futex (spurious wakes,
 * delays, half the workers never spin). Sizes fit a 2-core machine; FUTEX_TEST_SCALE scales them.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { LockCnt, Mutex, Semaphore } from "../mod.ts";
import { L, LOCK_BYTES } from "./support/lock_layout.ts";
import { rounds, runWorkers, seedBase, tick, until, type WorkerReport } from "./support/runtime.ts";

function spawn(
  scenario: string,
  sab: SharedArrayBuffer,
  mode: { chaos: boolean; mixed: boolean },
  roles: { role: string; id: number }[],
  n: number,
  timeoutMs: number,
): Promise<WorkerReport[]> {
  const words = new Int32Array(sab);
  return runWorkers(
    "workers/lock_roles",
    roles.map((r, k) => ({
      scenario,
      ...r,
      sab,
      chaos: mode.chaos,
      async: mode.mixed && k % 2 === 0, // half of the workers use the async forms
      seed: 7919 * (k + 1) + (mode.chaos ? 1 : 0) + (mode.mixed ? 2 : 0) + seedBase,
      spin: mode.chaos && k % 2 === 1 ? 0 : undefined,
      rounds: n,
    })),
    timeoutMs,
    () => `word ${words[L.PRIM]}, plain ${words[L.PLAIN]}, atomic ${words[L.ATOMIC]}, ops ${words[L.OPS]}`,
    { progress: () => words[L.ATOMIC] + words[L.OPS] + words[L.CONSUMED] + words[L.PRODUCED], ms: 10_000 },
  );
}

const workers = (role: string, count: number): { role: string; id: number }[] =>
  Array.from({ length: count }, (_, id) => ({ role, id }));

for (const [chaos, mixed] of [[false, false], [true, false], [false, true], [true, true]]) {
  // "half async": every even-numbered worker uses the async forms on its own event loop.
  const mode = `${chaos ? "chaos futex" : "plain futex"}${mixed ? ", half the workers async" : ""}`;
  const k = (chaos ? 0.25 : 1) * (mixed ? 0.5 : 1);
  const how = { chaos, mixed };

  test(`S9 MCS lock on the raw Futex contract, 5 workers (${mode})`, { timeout: 300_000 }, async () => {
    const sab = new SharedArrayBuffer(LOCK_BYTES);
    const w = new Int32Array(sab);
    w[L.HEAD] = -1;
    const n = rounds(20_000 * k);
    await spawn("s9", sab, how, workers("worker", 5), n, 120_000);
    assert.equal(w[L.ATOMIC], 5 * n);
    assert.equal(w[L.PLAIN], w[L.ATOMIC], "counter != atomic counter: mutual exclusion failed");
    assert.equal(w[L.HEAD], -1);
  });

  test(`Mutex counter stress, 5 workers (${mode})`, { timeout: 300_000 }, async () => {
    const sab = new SharedArrayBuffer(LOCK_BYTES);
    const w = new Int32Array(sab);
    new Mutex({ buffer: sab, byteOffset: 0 });
    const n = rounds(20_000 * k);
    await spawn("mutex", sab, how, workers("worker", 5), n, 120_000);
    assert.equal(w[L.PLAIN], w[L.ATOMIC], "counter != atomic counter: mutual exclusion failed");
    assert.ok(w[L.ATOMIC] >= 5 * n * 0.9 - 1, `too few sections: ${w[L.ATOMIC]}`); // only tryLock may skip
    assert.equal(w[L.PRIM], 0, "final mutex word");
  });

  test(`S10 LockCnt stress: 8 workers × random inc/dec/decAndLock/decIfLock/lock (${mode})`, { timeout: 300_000 }, async (t) => {
    const sab = new SharedArrayBuffer(LOCK_BYTES);
    const w = new Int32Array(sab);
    new LockCnt({ buffer: sab, byteOffset: 0 });
    w[L.VALID] = 1;
    const n = rounds(100_000 * k);
    const reports = await spawn("s10", sab, how, workers("worker", 8), n, 240_000);
    const sections = reports.reduce((s, r) => s + (r.sections as number), 0);
    assert.equal(w[L.PLAIN], w[L.ATOMIC], "plain section counter != atomic: two threads were inside");
    assert.equal(w[L.ATOMIC], sections);
    assert.equal(w[L.PRIM], 0, "final LockCnt word must be 0");
    assert.equal(w[L.VALID], 1);
    t.diagnostic(`${8 * n} ops, ${sections} sections, ${w[L.FREES]} frees`);
  });

  test(`S13 semaphore: 4 producers × 4 consumers, totals match (${mode})`, { timeout: 300_000 }, async () => {
    const sab = new SharedArrayBuffer(LOCK_BYTES);
    const w = new Int32Array(sab);
    const s = new Semaphore(0, { buffer: sab, byteOffset: 0 });
    const n = rounds(100_000 * k);
    const reports = await spawn(
      "s13",
      sab,
      how,
      [...workers("producer", 4), ...workers("consumer", 4).map((r) => ({ ...r, id: r.id + 4 }))],
      n,
      120_000,
    );
    assert.equal(w[L.PRODUCED], 4 * n);
    assert.equal(w[L.CONSUMED], 4 * n);
    assert.equal(reports.slice(4).reduce((a, r) => a + (r.got as number), 0), 4 * n);
    assert.equal(s.value, 0);
    assert.equal(w[L.PRIM] & 0x7fffffff, 0);
  });

  test(`an untimed acquire/lock asleep in a worker is woken by release/unlock (${mode})`, { timeout: 300_000 }, async () => {
    {
      const sab = new SharedArrayBuffer(LOCK_BYTES);
      const w = new Int32Array(sab);
      const s = new Semaphore(0, { buffer: sab, byteOffset: 0 });
      const done = spawn("wake", sab, how, [{ role: "semaphore", id: 0 }], 1, 10_000);
      await until("the acquirer to mark WAITERS", () => w[L.PRODUCED] === 1 && w[0] < 0);
      await tick(20);
      s.release();
      await done;
      assert.equal(s.value, 0);
    }
    for (let round = 0; round < 5; round++) {
      const sab = new SharedArrayBuffer(LOCK_BYTES);
      const w = new Int32Array(sab);
      const s = new Semaphore(0, { buffer: sab, byteOffset: 0 });
      const done = spawn("wake", sab, how, [{ role: "semaphore2", id: 0 }, { role: "semaphore2", id: 1 }], 1, 10_000);
      await until("both acquirers to start and mark WAITERS", () => w[L.PRODUCED] === 2 && w[0] < 0);
      await tick(20);
      s.release();
      s.release(); // meets the first sleeper still waking: the surplus must be handed on
      await done;
      assert.equal(w[L.CONSUMED], 2);
      assert.equal(s.value, 0);
    }
    {
      const sab = new SharedArrayBuffer(LOCK_BYTES);
      const w = new Int32Array(sab);
      const m = new Mutex({ buffer: sab, byteOffset: 0 });
      m.lock();
      const done = spawn("wake", sab, how, [{ role: "mutex", id: 0 }], 1, 10_000);
      await until("the locker to mark the mutex contended", () => w[L.PRODUCED] === 1 && w[0] === 2);
      await tick(20);
      m.unlock();
      await done;
      assert.equal(w[0], 0);
    }
  });

  test(`S11 LockCnt blocking semantics with exact words (${mode})`, { timeout: 300_000 }, async () => {
    // count 0 + lock(): an inc() in a worker blocks, the word shows WAITING; unlock lets it through → 0x4.
    {
      const sab = new SharedArrayBuffer(LOCK_BYTES);
      const w = new Int32Array(sab);
      const lc = new LockCnt({ buffer: sab, byteOffset: 0 });
      lc.lock();
      assert.equal(w[0], 0x1);
      const done = spawn("s11", sab, how, [{ role: "inc", id: 0 }], 1, 30_000);
      await until("the inc to block (word WAITING)", () => w[L.PRODUCED] === 1 && w[0] === 0x2);
      await tick(20);
      assert.equal(w[L.CONSUMED], 0, "inc passed a held lock with count 0");
      assert.equal(w[0], 0x2);
      lc.unlock();
      const [r] = await done;
      assert.equal(r.word, 0x4);
      assert.equal(w[0], 0x4);
    }
    // count 1 + lock() (0x5): inc() does not block (0x9).
    {
      const sab = new SharedArrayBuffer(LOCK_BYTES);
      const w = new Int32Array(sab);
      const lc = new LockCnt({ buffer: sab, byteOffset: 0 });
      lc.inc();
      lc.lock();
      assert.equal(w[0], 0x5);
      const [r] = await spawn("s11", sab, how, [{ role: "inc", id: 0 }], 1, 30_000);
      assert.equal(r.word, 0x9);
      lc.unlock();
      assert.equal(w[0], 0x8);
    }
    // Two lockers blocked behind a 300 ms holder both finish (baton passing); the word ends at 0.
    {
      const sab = new SharedArrayBuffer(LOCK_BYTES);
      const w = new Int32Array(sab);
      const lc = new LockCnt({ buffer: sab, byteOffset: 0 });
      lc.lock();
      const done = spawn("s11", sab, how, workers("locker", 2), 1, 30_000);
      await until("both lockers to start", () => w[L.PRODUCED] === 2);
      await tick(300);
      assert.equal(w[0], 0x2, "the lockers did not mark the lock WAITING");
      assert.equal(w[L.CONSUMED], 0);
      lc.unlock();
      await done;
      assert.equal(w[L.CONSUMED], 2);
      assert.equal(w[L.ATOMIC], 2);
      assert.equal(w[0], 0);
    }
  });
}
