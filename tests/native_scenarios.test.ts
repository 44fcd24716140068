/**
 * Every primitive driven by the native (OS) futex across workers of one process: the event
 * scenarios S1–S3 and S6–S7, S9 (MCS lock on the raw Futex contract through FFI), the mutex
 * counter stress, S10 (LockCnt) and S13 (semaphore), each with the plain native futex and with
 * chaos wrapped around it. Same worker roles and invariants as the Atomics runs; sizes are a
 * quarter of those (every wait is a real syscall). Runs under Deno and Bun on Linux; elsewhere
 * it skips with the reason printed.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { LockCnt, ManualResetEvent, Mutex, Semaphore } from "../mod.ts";
import { BYTES, eventOffset } from "./support/event_layout.ts";
import { L, LOCK_BYTES } from "./support/lock_layout.ts";
import { loadNative, nativeSkip } from "../scripts/lib/native.ts";
import { rounds, runWorkers, seedBase, type WorkerReport } from "./support/runtime.ts";

const skip = nativeSkip;
/**
 * OS wait slice in the workers. Nothing in these scenarios legitimately sleeps this long, so a
 * slice that expires with the word unchanged is a wakeup that never came: every run asserts none.
 */
const SLICE_MS = 2000;
const native = skip ? undefined : await loadNative();

async function run(
  script: "event_roles" | "lock_roles",
  scenario: string,
  sab: SharedArrayBuffer,
  chaos: boolean,
  roles: { role: string; id: number }[],
  n: number,
  extra: Record<string, unknown> = {},
): Promise<WorkerReport[]> {
  const words = new Int32Array(sab);
  const reports = await runWorkers(
    `workers/${script}`,
    roles.map((r, k) => ({
      scenario,
      ...r,
      sab,
      chaos,
      native: true,
      sliceMs: SLICE_MS,
      seed: 4241 * (k + 1) + (chaos ? 1 : 0) + seedBase,
      spin: chaos && k % 2 === 1 ? 0 : undefined,
      rounds: n,
      ...extra,
    })),
    180_000,
    () => `words [${Array.from(words.slice(0, 8)).join(", ")}]`,
    script === "lock_roles"
      ? { progress: () => words[L.ATOMIC] + words[L.OPS] + words[L.CONSUMED] + words[L.PRODUCED], ms: 15_000 }
      : undefined,
  );
  const expired = reports.map((r) => r.expiredSlices as number);
  assert.ok(expired.every((e) => e === 0), `a sleeper waited a whole ${SLICE_MS} ms slice with its word unchanged (lost wakeup): ${expired}`);
  return reports;
}

const many = (role: string, count: number, from = 0): { role: string; id: number }[] =>
  Array.from({ length: count }, (_, id) => ({ role, id: id + from }));

for (const chaos of [false, true]) {
  const mode = chaos ? "chaos(native futex)" : "native futex";
  const k = chaos ? 0.05 : 0.25;

  function events(count: number): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(BYTES);
    for (let i = 0; i < count; i++) new ManualResetEvent({ buffer: sab, byteOffset: eventOffset(i), futex: native!.nativeFutex() });
    return sab;
  }

  test(`native S1 remote-call handshake, 5 workers (${mode})`, { skip, timeout: 300_000 }, async () => {
    await run("event_roles", "s1", events(1), chaos, [{ role: "driver", id: 0 }, ...many("remote", 5)], rounds(1000 * k), { waiters: 5 });
  });

  test(`native S2 ping-pong on two events (${mode})`, { skip, timeout: 300_000 }, async (t) => {
    const n = rounds(20_000 * k);
    const [ping] = await run("event_roles", "s2", events(2), chaos, [{ role: "ping", id: 0 }, { role: "pong", id: 0 }], n);
    t.diagnostic(`${n} round trips, ${Math.round(ping.nsPerRoundTrip as number)} ns each`);
  });

  test(`native S3 broadcast to 8 waiters (${mode})`, { skip, timeout: 300_000 }, async () => {
    const n = rounds(2000 * k);
    const [driver] = await run("event_roles", "s3", events(2), chaos, [{ role: "driver", id: 0 }, ...many("waiter", 8)], n, { waiters: 8 });
    assert.equal(driver.passed, 8 * n);
  });

  test(`native S7 Dekker idiom, no lost wakeup (${mode})`, { skip, timeout: 300_000 }, async () => {
    await run("event_roles", "s7", events(1), chaos, [{ role: "waiter", id: 0 }, { role: "setter", id: 0 }], rounds(20_000 * k));
  });

  test(`native S9 MCS lock on the raw Futex contract, 5 workers (${mode})`, { skip, timeout: 300_000 }, async () => {
    const sab = new SharedArrayBuffer(LOCK_BYTES);
    const w = new Int32Array(sab);
    w[L.HEAD] = -1;
    const n = rounds(20_000 * k);
    await run("lock_roles", "s9", sab, chaos, many("worker", 5), n);
    assert.equal(w[L.ATOMIC], 5 * n);
    assert.equal(w[L.PLAIN], w[L.ATOMIC], "mutual exclusion failed");
  });

  test(`native Mutex counter stress, 5 workers (${mode})`, { skip, timeout: 300_000 }, async () => {
    const sab = new SharedArrayBuffer(LOCK_BYTES);
    const w = new Int32Array(sab);
    new Mutex({ buffer: sab, byteOffset: 0, futex: native!.nativeFutex() });
    const n = rounds(20_000 * k);
    await run("lock_roles", "mutex", sab, chaos, many("worker", 5), n);
    assert.equal(w[L.PLAIN], w[L.ATOMIC], "mutual exclusion failed");
    assert.ok(w[L.ATOMIC] >= 5 * n * 0.9 - 1, `too few sections: ${w[L.ATOMIC]}`);
    assert.equal(w[L.PRIM], 0, "final mutex word");
  });

  test(`native S10 LockCnt stress, 8 workers (${mode})`, { skip, timeout: 300_000 }, async (t) => {
    const sab = new SharedArrayBuffer(LOCK_BYTES);
    const w = new Int32Array(sab);
    new LockCnt({ buffer: sab, byteOffset: 0, futex: native!.nativeFutex() });
    w[L.VALID] = 1;
    const n = rounds(100_000 * k);
    const reports = await run("lock_roles", "s10", sab, chaos, many("worker", 8), n);
    const sections = reports.reduce((s, r) => s + (r.sections as number), 0);
    assert.equal(w[L.PLAIN], w[L.ATOMIC], "two threads were inside");
    assert.equal(w[L.ATOMIC], sections);
    assert.equal(w[L.PRIM], 0, "final LockCnt word must be 0");
    t.diagnostic(`${8 * n} ops, ${sections} sections`);
  });

  test(`native S13 semaphore, 4 producers × 4 consumers (${mode})`, { skip, timeout: 300_000 }, async () => {
    const sab = new SharedArrayBuffer(LOCK_BYTES);
    const w = new Int32Array(sab);
    const s = new Semaphore(0, { buffer: sab, byteOffset: 0, futex: native!.nativeFutex() });
    const n = rounds(100_000 * k);
    const reports = await run("lock_roles", "s13", sab, chaos, [...many("producer", 4), ...many("consumer", 4, 4)], n);
    assert.equal(w[L.PRODUCED], 4 * n);
    assert.equal(w[L.CONSUMED], 4 * n);
    assert.equal(reports.slice(4).reduce((a, r) => a + (r.got as number), 0), 4 * n);
    assert.equal(s.value, 0);
  });
}
