/**
 * Attaching must never produce a sleeper the other side's wakes cannot reach, nor a primitive
 * over private memory, nor a re-initialised word under another thread's feet:
 * - handles carry the futex domain; `from()` with a futex of another domain (or none where the
 *   handle needs a native one) is a TypeError saying what to pass; wrappers forward the domain;
 * - a region's handle names its region; `from()` over the postMessage copy is refused and
 *   `from(handle, { region })` attaches through this thread's mapping;
 * - `new X({ buffer, byteOffset })` over a word whose value shows it is in use is refused.
 * The native cases run in Deno, Bun and Node 26 on Linux (Node 20 has no FFI: skipped with the reason).
 */

import assert from "node:assert/strict";
import process from "node:process";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { atomicsFutex, type Futex, LockCnt, ManualResetEvent, Mutex, Semaphore } from "../mod.ts";
import { chaosFutex, countingFutex } from "../testing.ts";
import { loadNative, nativeSkip, refusedOnWindows } from "../scripts/lib/native.ts";
import { testScript } from "./support/runtime.ts";

/** A futex of another domain that never sleeps (enough to be attached with, never to wait on). */
function foreignFutex(domain: string, requiresSharedArrayBuffer = true): Futex {
  return { ...atomicsFutex, name: `fake-${domain}`, domain, requiresSharedArrayBuffer };
}

test("handles carry their futex domain; wrappers forward it", () => {
  assert.equal(new Mutex().handle.domain, "atomics");
  assert.equal(new Semaphore(1, { futex: countingFutex(atomicsFutex) }).handle.domain, "atomics");
  assert.equal(new LockCnt({ futex: chaosFutex(atomicsFutex) }).handle.domain, "atomics");
  const h = structuredClone(new ManualResetEvent().handle);
  assert.equal(h.domain, "atomics");
  assert.equal(ManualResetEvent.from(h).isSet, false);
});

test("from() with a futex of another domain is refused with what to pass, and touches nothing", () => {
  const m = new Mutex();
  m.lock();
  for (const domain of ["os-private", "os-shared", "custom"]) {
    assert.throws(() => Mutex.from(m.handle, { futex: foreignFutex(domain) }), (e: Error) => {
      assert.equal(e.name, "TypeError");
      assert.match(e.message, /driven by the Atomics futex/);
      assert.match(e.message, /omit \{ futex \}/);
      return true;
    });
  }
  // The other way round: a word of a native domain attached with the default Atomics futex.
  const nativeHandle = { ...new Mutex().handle, domain: "os-private" };
  assert.throws(() => Mutex.from(nativeHandle), /process-private native futex.*pass \{ futex: nativeFutex\(\) \}/s);
  const sharedHandle = { ...new Semaphore(1).handle, domain: "os-shared" };
  assert.throws(() => Semaphore.from(sharedHandle), /cross-process native futex.*crossProcess: true/s);
  assert.equal(m.isLocked, true);
});

test("a futex without a domain is refused as not implementing the contract", () => {
  const { domain: _, ...noDomain } = atomicsFutex;
  assert.throws(() => new Mutex({ futex: noDomain as Futex }), /Futex contract \(domain, wait/);
});

test("a plain ArrayBuffer that is no live mapping is refused for any futex, naming the region way", () => {
  const f = foreignFutex("os-private", false);
  assert.throws(() => new Mutex({ buffer: new ArrayBuffer(8), futex: f }), /not a live shared mapping.*from\(handle, \{ region/s);
  // A region handle whose buffer is a copy (what postMessage delivers) is refused before anything else.
  const copy = { buffer: new ArrayBuffer(8), byteOffset: 4, kind: "Mutex", domain: "os-shared", region: { name: "/r", byteLength: 8 } };
  assert.throws(() => Mutex.from(copy, { futex: foreignFutex("os-shared", false) }), /shared region "\/r".*private copy.*openSharedRegion\("\/r", 8\)/s);
});

test("new X over a word whose value shows it is in use is refused and the word is left as it was", () => {
  const sab = new SharedArrayBuffer(16);
  const words = new Int32Array(sab);
  const cases: [number, number, () => unknown, RegExp][] = [
    [0, 1, () => new Mutex({ buffer: sab, byteOffset: 0 }), /holds 1 \(locked\)/],
    [0, 2, () => new Mutex({ buffer: sab, byteOffset: 0 }), /holds 2 \(locked, with waiters\)/],
    [1, -1, () => new ManualResetEvent({ buffer: sab, byteOffset: 4 }), /event with waiters/],
    [2, 0x80000000 | 0, () => new Semaphore(1, { buffer: sab, byteOffset: 8 }), /semaphore with waiters/],
    [3, 8, () => new LockCnt({ buffer: sab, byteOffset: 12 }), /2 visits counted/],
    [3, 1, () => new LockCnt({ buffer: sab, byteOffset: 12 }), /lock bits 1/],
  ];
  for (const [i, value, make, message] of cases) {
    Atomics.store(words, i, value);
    assert.throws(make, (e: Error) => e instanceof TypeError && message.test(e.message) && /\.from\(handle\)/.test(e.message));
    assert.equal(Atomics.load(words, i), value, "the word is untouched");
  }
  // States a fresh word also has are not signs of use: they are (re)initialised as before.
  Atomics.store(words, 0, 0);
  new Mutex({ buffer: sab, byteOffset: 0 });
  Atomics.store(words, 1, 0); // SET
  assert.equal(new ManualResetEvent({ buffer: sab, byteOffset: 4 }).isSet, false);
});

// ---- native (Deno, Bun on Linux) ---------------------------------------------------------------

const skip = nativeSkip;
const native = skip ? undefined : await loadNative();

function probe(data: Record<string, unknown>): { worker: Worker; next: () => Promise<Record<string, unknown>> } {
  const worker = new Worker(testScript("workers/attach_probe"), { workerData: data });
  const queue: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  worker.on("message", (m) => (waiters.shift() ?? ((x) => queue.push(x)))(m));
  worker.on("error", (e) => (waiters.shift() ?? (() => {}))({ ok: false, error: String(e) }));
  const next = (): Promise<Record<string, unknown>> => {
    const hit = queue.shift();
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("attach_probe worker did not answer within 10 s")), 10_000);
      waiters.push((m) => (clearTimeout(t), resolve(m)));
    });
  };
  return { worker, next };
}

test("a region Mutex's handle posted to a worker: the copy is refused; attached through the region it excludes", { skip, timeout: 30_000 }, async () => {
  if (refusedOnWindows(native!, "region")) return;
  const name = `/futex-sync-attach-${process.pid}`;
  const region = native!.openSharedRegion(name, 64, { create: true, exclusive: true });
  const { worker, next } = probe({ how: "copy", handle: new Mutex({ buffer: region.buffer, byteOffset: 8, futex: region.futex }).handle });
  try {
    const m = Mutex.from({ buffer: region.buffer, byteOffset: 8 }, { futex: region.futex });
    const r = await next();
    assert.equal(r.ok, true, String(r.error));
    const overCopy = r.overCopy as { name: string; message: string } | undefined;
    assert.ok(overCopy, "attaching over the postMessage copy must be refused");
    assert.equal(overCopy.name, "TypeError");
    assert.match(overCopy.message, new RegExp(`"${name}".*private copy.*\\{ region: openSharedRegion`, "s"));
    assert.equal(r.locked, true, "the worker locked the mutex through its own mapping");
    assert.equal(m.tryLock(), false, "one holder: the main thread sees the worker's lock");
    assert.equal(new Int32Array(region.buffer, 8, 1)[0], 1);
    worker.postMessage("unlock");
    assert.equal((await next()).unlocked, true);
    assert.equal(m.tryLock(), true);
    m.unlock();
  } finally {
    await worker.terminate();
    region.close();
    region.unlink();
  }
});

test("a sealed region's handle posted to a worker names openSealedRegion; attached through it, it excludes", { skip, timeout: 30_000 }, async () => {
  if (refusedOnWindows(native!, "region", "sealed")) return;
  const region = native!.createSealedRegion(64);
  const { worker, next } = probe({ how: "copy", handle: new Mutex({ buffer: region.buffer, byteOffset: 8, futex: region.futex }).handle });
  try {
    const m = Mutex.from({ buffer: region.buffer, byteOffset: 8 }, { futex: region.futex });
    const r = await next();
    assert.equal(r.ok, true, String(r.error));
    assert.match((r.overCopy as { message: string }).message, new RegExp(`region: openSealedRegion\\("${region.path}", 64\\)`));
    assert.equal(r.locked, true);
    assert.equal(m.tryLock(), false, "one holder");
    worker.postMessage("unlock");
    assert.equal((await next()).unlocked, true);
    assert.equal(m.tryLock(), true);
  } finally {
    await worker.terminate();
    region.close();
  }
});

test("a worker attaching to a native-futex Mutex without { futex } is refused, naming nativeFutex()", { skip, timeout: 30_000 }, async () => {
  const m = new Mutex({ futex: native!.nativeFutex() });
  assert.equal(m.handle.domain, "os-private");
  const { worker, next } = probe({ how: "default", handle: m.handle });
  try {
    const r = await next();
    const refused = r.refused as { name: string; message: string } | undefined;
    assert.ok(refused, "Mutex.from(handle) with the Atomics default must be refused (its sleeper would never be woken)");
    assert.equal(refused.name, "TypeError");
    assert.match(refused.message, /process-private native futex.*nativeFutex\(\)/s);
  } finally {
    await worker.terminate();
  }
});

test("new Mutex({ buffer, byteOffset }) over a word another worker holds is refused: no second holder", { skip, timeout: 30_000 }, async () => {
  const sab = new SharedArrayBuffer(8);
  const futex = native!.nativeFutex();
  const first = new Mutex({ buffer: sab, byteOffset: 4, futex });
  const { worker, next } = probe({ how: "native", handle: first.handle });
  try {
    assert.equal((await next()).locked, true);
    assert.throws(() => new Mutex({ buffer: sab, byteOffset: 4, futex }), /holds 1 \(locked\).*Mutex\.from\(handle\)/s);
    assert.equal(first.tryLock(), false, "still one holder");
    worker.postMessage("unlock");
    assert.equal((await next()).unlocked, true);
    assert.equal(first.tryLock(), true);
  } finally {
    await worker.terminate();
  }
});

test("two mappings of one region in a thread share its words' records: locking through both is DeadlockError, not a hang", { skip, timeout: 30_000 }, () => {
  if (refusedOnWindows(native!, "region")) return;
  const name = `/futex-sync-attach2-${process.pid}`;
  const a = native!.openSharedRegion(name, 16, { create: true, exclusive: true });
  const b = native!.openSharedRegion(name, 16);
  try {
    const m = new Mutex({ buffer: a.buffer, byteOffset: 4, futex: a.futex });
    m.lock();
    const same = Mutex.from(m.handle, { region: b });
    assert.throws(() => same.lock(), { name: "DeadlockError" });
    assert.equal(same.tryLock(), false);
    m.unlock();
    assert.equal(same.tryLock(), true);
    same.unlock();
  } finally {
    a.close();
    b.close();
    a.unlink();
  }
  // Re-created under the same name after every mapping closed: no record (no stale holder) is left.
  const c = native!.openSharedRegion(name, 16, { create: true, exclusive: true });
  try {
    const m = new Mutex({ buffer: c.buffer, byteOffset: 4, futex: c.futex });
    assert.equal(m.lock(100), true);
    m.unlock();
  } finally {
    c.close();
    c.unlink();
  }
});
