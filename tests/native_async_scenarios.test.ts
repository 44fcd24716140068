/**
 * The multi-worker scenarios with the native futex and half the workers async (every even
 * worker uses lockAsync / acquireAsync / waitAsync, so its waits go through its thread's shared
 * helper, adapters/native/wait_service.ts): S1 handshake, S3 broadcast, the mutex counter, S10
 * LockCnt, S13 semaphore — plain and with chaos. A lost wakeup of an async waiter has no slice
 * to expire: it shows as a stall (runWorkers fails when the counters stop moving). The blocking
 * workers use 2 s slices and must expire none. Deno and Bun on Linux; skipped elsewhere.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { LockCnt, ManualResetEvent, Mutex, Semaphore } from "../mod.ts";
import { BYTES, eventOffset } from "./support/event_layout.ts";
import { L, LOCK_BYTES } from "./support/lock_layout.ts";
import { loadNative, nativeSkip } from "../scripts/lib/native.ts";
import { rounds, runWorkers, seedBase, type WorkerReport } from "./support/runtime.ts";

const skip = nativeSkip;
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
      async: k % 2 === 0,
      sliceMs: SLICE_MS,
      seed: 6007 * (k + 1) + (chaos ? 1 : 0) + seedBase,
      spin: chaos && k % 2 === 1 ? 0 : undefined,
      rounds: n,
      ...extra,
    })),
    180_000,
    () => `words [${Array.from(words.slice(0, 8)).join(", ")}]`,
    { progress: () => words.reduce((a, b) => a + b, 0), ms: 15_000 },
  );
  const expired = reports.map((r) => r.expiredSlices as number);
  assert.ok(expired.every((e) => e === 0), `a blocking sleeper waited a whole ${SLICE_MS} ms slice with its word unchanged: ${expired}`);
  return reports;
}

const many = (role: string, count: number, from = 0): { role: string; id: number }[] =>
  Array.from({ length: count }, (_, id) => ({ role, id: id + from }));

for (const chaos of [false, true]) {
  const mode = chaos ? "chaos(native futex), half async" : "native futex, half async";
  const k = chaos ? 0.03 : 0.1;

  function events(count: number): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(BYTES);
    for (let i = 0; i < count; i++) new ManualResetEvent({ buffer: sab, byteOffset: eventOffset(i), futex: native!.nativeFutex() });
    return sab;
  }

  test(`native S1 remote-call handshake, 5 workers (${mode})`, { skip, timeout: 300_000 }, async () => {
    await run("event_roles", "s1", events(1), chaos, [{ role: "driver", id: 0 }, ...many("remote", 5)], rounds(1000 * k), { waiters: 5 });
  });

  test(`native S3 broadcast to 8 waiters (${mode})`, { skip, timeout: 300_000 }, async () => {
    const n = rounds(2000 * k);
    const [driver] = await run("event_roles", "s3", events(2), chaos, [{ role: "driver", id: 0 }, ...many("waiter", 8)], n, { waiters: 8 });
    assert.equal(driver.passed, 8 * n);
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

  test(`native S10 LockCnt stress, 8 workers (${mode})`, { skip, timeout: 300_000 }, async () => {
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
