/**
 * Multi-worker scenarios for Condition and RwLock (docs/testing.md):
 *   - bounded buffer on a Mutex and two Conditions, 4 producers × 4 consumers: every item taken
 *     once (count and sum exact), the ring never over- or under-filled;
 *   - RwLock, 8 workers reading and writing an 8-word record one word at a time: no reader sees
 *     a torn write, no reader beside a writer, no two writers; the write count exact;
 *   - wake tests with exact outcomes: a notify whose increment lands after a waiter re-checks,
 *     and a writer woken by the last reader out;
 * each with the plain and the chaos futex, blocking and half-async workers; then the same two
 * scenarios on the native futex (Deno, Bun; skipped under Node) and across two processes over a
 * shared region (JS peers, tests/native/toolkit_peer.ts; no C).
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import process from "node:process";
import { test } from "node:test";
import { atomicsFutex, Condition, type Futex, Mutex, RwLock } from "../mod.ts";
import { countingFutex } from "../testing.ts";
import { atomicsOnlySkip, loadNative, nativeSkip, refusedOnWindows } from "../scripts/lib/native.ts";
import { repoRoot } from "../scripts/lib/peer.ts";
import { BB, BLOCK_BYTES, DATA_WORDS, PEER_READY, RWL } from "./support/toolkit_layout.ts";
import { rounds, runCommand, runtime, runWorkers, seedBase, tick, until, type WorkerReport } from "./support/runtime.ts";

const BYTES = 64 + 4 * 16;
const native = nativeSkip ? undefined : await loadNative();
const SLICE_MS = 2000;

interface Mode {
  chaos: boolean;
  mixed: boolean;
  native?: boolean;
}

function spawn(scenario: string, sab: SharedArrayBuffer, mode: Mode, roles: { role: string; id: number }[], n: number, extra: Record<string, unknown> = {}): Promise<WorkerReport[]> {
  const w = new Int32Array(sab);
  return runWorkers(
    "workers/toolkit_roles",
    roles.map((r, k) => ({
      scenario,
      ...r,
      sab,
      chaos: mode.chaos,
      native: mode.native,
      sliceMs: mode.native ? SLICE_MS : undefined,
      async: mode.mixed && k % 2 === 0,
      seed: 6007 * (k + 1) + (mode.chaos ? 1 : 0) + (mode.mixed ? 2 : 0) + seedBase,
      spin: mode.chaos && k % 2 === 1 ? 0 : undefined,
      rounds: n,
      ...extra,
    })),
    240_000,
    () => `words [${Array.from(w.slice(0, 8)).join(", ")}]`,
    { progress: () => w[BB.PRODUCED / 4] + w[BB.CONSUMED / 4] + w[RWL.READS / 4] + w[RWL.WRITES / 4], ms: 15_000 },
  );
}

const many = (role: string, count: number, from = 0): { role: string; id: number }[] =>
  Array.from({ length: count }, (_, id) => ({ role, id: id + from }));

async function boundedBuffer(mode: Mode, n: number, futex?: Futex): Promise<void> {
  const sab = new SharedArrayBuffer(BYTES);
  const w = new Int32Array(sab);
  new Mutex({ buffer: sab, byteOffset: BB.MUTEX, futex });
  new Condition({ buffer: sab, byteOffset: BB.NOT_EMPTY, futex });
  new Condition({ buffer: sab, byteOffset: BB.NOT_FULL, futex });
  const reports = await spawn("bb", sab, mode, [...many("producer", 4), ...many("consumer", 4, 4)], n);
  const consumers = reports.slice(4);
  assert.equal(w[BB.PRODUCED / 4], 4 * n);
  assert.equal(w[BB.CONSUMED / 4], 4 * n);
  assert.equal(consumers.reduce((s, r) => s + (r.got as number), 0), 4 * n);
  assert.equal(consumers.reduce((s, r) => s + (r.sum as number), 0), (4 * n * (4 * n + 1)) / 2, "every item taken exactly once");
  assert.equal(w[BB.COUNT / 4], 0);
  assert.equal(w[BB.MUTEX / 4], 0, "final mutex word");
  if (mode.native) {
    const expired = reports.map((r) => r.expiredSlices as number);
    assert.ok(expired.every((e) => e === 0), `a sleeper waited a whole ${SLICE_MS} ms slice unwoken (lost wakeup): ${expired}`);
  }
}

async function torn(mode: Mode, n: number, futex?: Futex): Promise<number> {
  const sab = new SharedArrayBuffer(BYTES);
  const w = new Int32Array(sab);
  new RwLock({ buffer: sab, byteOffset: RWL.LOCK, futex });
  const reports = await spawn("rw", sab, mode, many("worker", 8), n, { waiters: 10 });
  const writes = reports.reduce((s, r) => s + (r.writes as number), 0);
  const reads = reports.reduce((s, r) => s + (r.reads as number), 0);
  assert.equal(w[RWL.WRITES / 4], writes);
  assert.equal(w[RWL.READS / 4], reads);
  for (let i = 0; i < DATA_WORDS; i++) assert.equal(w[RWL.DATA / 4 + i], writes, `data[${i}] holds the write count`);
  assert.equal(w[RWL.LOCK / 4], 0, "final state word: unlocked, no waiting bits");
  assert.ok(writes > 0 && reads > 0);
  if (mode.native) {
    const expired = reports.map((r) => r.expiredSlices as number);
    assert.ok(expired.every((e) => e === 0), `a sleeper waited a whole ${SLICE_MS} ms slice unwoken (lost wakeup): ${expired}`);
  }
  return writes;
}

for (const [chaos, mixed] of [[false, false], [true, false], [false, true], [true, true]]) {
  const label = `${chaos ? "chaos futex" : "plain futex"}${mixed ? ", half the workers async" : ""}`;
  const k = (chaos ? 0.25 : 1) * (mixed ? 0.5 : 1);

  test(`bounded buffer on Mutex + Condition: 4 producers × 4 consumers, totals exact (${label})`, { skip: atomicsOnlySkip, timeout: 300_000 }, async () => {
    await boundedBuffer({ chaos, mixed }, rounds(5000 * k));
  });

  test(`RwLock: 8 workers, no reader sees a torn write, write count exact (${label})`, { skip: atomicsOnlySkip, timeout: 300_000 }, async (t) => {
    const n = rounds(20_000 * k);
    const writes = await torn({ chaos, mixed }, n);
    t.diagnostic(`${8 * n} ops, ${writes} writes`);
  });
}

test("a notify whose increment lands after the waiter re-checked still wakes it (increment, then wake)", { skip: atomicsOnlySkip, timeout: 60_000 }, async () => {
  const sab = new SharedArrayBuffer(BYTES);
  const w = new Int32Array(sab);
  // The notifier's wake is slow to return: a waiter it wakes re-checks long before anything after the wake runs.
  const slow: Futex = {
    ...countingFutex(atomicsFutex),
    wakeOne(view, index) {
      atomicsFutex.wakeOne(view, index);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
    },
  };
  const m = new Mutex({ buffer: sab, byteOffset: BB.MUTEX });
  const c = new Condition({ buffer: sab, byteOffset: BB.NOT_EMPTY, futex: slow });
  for (let round = 0; round < 3; round++) {
    Atomics.store(w, BB.PRODUCED / 4, 0);
    const done = spawn("wake", sab, { chaos: false, mixed: false }, [{ role: "condition", id: 0 }], 1);
    await until("the waiter to lock", () => w[BB.PRODUCED / 4] === 1);
    m.lock(); // returns once the waiter's wait has released the mutex
    await tick(20); // the waiter is asleep on the condition
    c.notifyOne();
    m.unlock();
    const [r] = await done;
    assert.equal(r.ok, true, "the waiter slept through the notify");
    // A waiter that slept through the wake still returns true at its 3 s deadline (the sequence
    // moved by then): only the time tells the wake was lost.
    assert.ok((r.ms as number) < 1500, `the waiter was woken only by its deadline (${Math.round(r.ms as number)} ms)`);
  }
});

test("a writer asleep behind a reader is woken by the reader's unlock", { skip: atomicsOnlySkip, timeout: 60_000 }, async () => {
  const sab = new SharedArrayBuffer(BYTES);
  const w = new Int32Array(sab);
  const rw = new RwLock({ buffer: sab, byteOffset: RWL.LOCK });
  rw.readLock();
  const done = spawn("wake", sab, { chaos: false, mixed: false }, [{ role: "writer", id: 0 }], 1);
  await until("the writer to mark WRITERS_WAITING", () => w[RWL.READS / 4] === 1 && w[RWL.LOCK / 4] < 0);
  await tick(20);
  rw.readUnlock();
  const [r] = await done;
  assert.equal(r.ok, true, "the writer was never woken");
  assert.ok((r.ms as number) < 1500, `the writer got the lock only at its deadline (${Math.round(r.ms as number)} ms): no wake came`);
  assert.equal(w[RWL.LOCK / 4], 0);
});

for (const chaos of [false, true]) {
  const label = chaos ? "chaos(native futex)" : "native futex";
  const k = chaos ? 0.05 : 0.25;
  test(`native: bounded buffer on Mutex + Condition, 4 × 4 (${label})`, { skip: nativeSkip, timeout: 300_000 }, async () => {
    await boundedBuffer({ chaos, mixed: false, native: true }, rounds(5000 * k), native!.nativeFutex());
  });
  test(`native: RwLock torn-write check, 8 workers (${label})`, { skip: nativeSkip, timeout: 300_000 }, async () => {
    await torn({ chaos, mixed: false, native: true }, rounds(20_000 * k), native!.nativeFutex());
  });
}

/** Cross-process: two JS processes of this runtime over one shared region. */
const peer = join(repoRoot, "tests/native/toolkit_peer.ts");
let serial = 0;

async function twoProcesses(cmds: string[][]): Promise<{ region: Int32Array; outs: Record<string, number>[]; done: () => void }> {
  const name = `/futex-sync-toolkit-${process.pid}-${serial++}`;
  const r = native!.openSharedRegion(name, 4096, { create: true, exclusive: true });
  new Mutex({ buffer: r.buffer, byteOffset: BB.MUTEX, futex: r.futex });
  new Condition({ buffer: r.buffer, byteOffset: BB.NOT_EMPTY, futex: r.futex });
  new Condition({ buffer: r.buffer, byteOffset: BB.NOT_FULL, futex: r.futex });
  new RwLock({ buffer: r.buffer, byteOffset: BLOCK_BYTES + RWL.LOCK, futex: r.futex });
  const argv = (args: string[]): string[] => runtime === "deno" ? [process.execPath, "run", "-A", peer, ...args] : [process.execPath, peer, ...args];
  const runs = await Promise.all(cmds.map((c) => runCommand(argv([c[0], name, ...c.slice(1)]), 120_000, { PEER_PARTIES: String(cmds.length), PEER_SLICE_MS: String(SLICE_MS) })));
  const outs = runs.map((x, i) => {
    assert.equal(x.code, 0, `peer ${cmds[i].join(" ")} failed${x.timedOut ? " (killed at its timeout)" : ""}:\n${x.stdout}\n${x.stderr}`);
    const line = x.stdout.split("\n").find((l) => l.startsWith("ok ")) ?? "";
    const f = Object.fromEntries(line.slice(3).split(" ").filter(Boolean).map((kv) => kv.split("=")).map(([a, b]) => [a, Number(b)]));
    assert.equal(f.expired, 0, `peer ${cmds[i][0]}: a wait slept a whole ${SLICE_MS} ms slice unwoken (lost wakeup)`);
    return f;
  });
  return {
    region: new Int32Array(r.buffer),
    outs,
    done: () => {
      r.close();
      r.unlink();
    },
  };
}

test("cross-process: bounded buffer, a producer process and a consumer process (Mutex + Condition on a region)", { skip: nativeSkip, timeout: 180_000 }, async () => {
  if (refusedOnWindows(native!, "cross-process", "region")) return;
  const n = rounds(5000);
  const { region, outs, done } = await twoProcesses([["bb-producer", `${n}`], ["bb-consumer", `${n}`]]);
  try {
    assert.equal(outs[1].got, n);
    assert.equal(outs[1].sum, (n * (n + 1)) / 2, "every item taken exactly once");
    assert.equal(region[BB.PRODUCED / 4], n);
    assert.equal(region[BB.CONSUMED / 4], n);
    assert.equal(region[BB.MUTEX / 4], 0);
    assert.equal(region[PEER_READY / 4], 2);
  } finally {
    done();
  }
});

test("cross-process: RwLock torn-write check, two processes reading and writing (region)", { skip: nativeSkip, timeout: 180_000 }, async () => {
  if (refusedOnWindows(native!, "cross-process", "region")) return;
  const n = rounds(20_000);
  const { region, outs, done } = await twoProcesses([["rw", `${n}`, "11"], ["rw", `${n}`, "22"]]);
  try {
    const writes = outs[0].writes + outs[1].writes;
    assert.ok(writes > 0);
    for (let i = 0; i < DATA_WORDS; i++) assert.equal(region[(BLOCK_BYTES + RWL.DATA) / 4 + i], writes);
    assert.equal(region[(BLOCK_BYTES + RWL.LOCK) / 4], 0);
  } finally {
    done();
  }
});
