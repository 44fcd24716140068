/**
 * Async native waits (adapters/native/wait_service.ts) on a real kernel, Deno, Bun and Node 26 on Linux
 * (skipped elsewhere with the reason printed): what pending waits cost the process (threads,
 * memory, set-up time, Deno's blocking pool), that an abort or close lets the process exit at
 * once, wake-one / wake-all with several waiters on one word, more than 127 distinct words, the
 * forced no-futex_waitv path, closing with waits pending, and a terminated worker's helper.
 * Process-level effects are measured in child processes (tests/fixtures/native_async_*.ts).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualResetEvent, Semaphore } from "../mod.ts";
import { keepAliveCount } from "../adapters/keepalive.ts";
import type { NativeFutexOptions } from "../adapters/native/bind.ts";
import { FutexClosedError } from "../adapters/native/errors.ts";
import type { FfiBackend } from "../adapters/native/bind.ts";
import { MAX_HELPERS, type ServiceStats, serviceStats, SLOTS } from "../adapters/native/wait_service.ts";
import { loadNative, nativeSkip, onWindows, privateFutexName } from "../scripts/lib/native.ts";
import process from "node:process";
import { denoWithoutPermissions, runChild, runtime, testScript, testScriptPath } from "./support/runtime.ts";

const skip = nativeSkip;
const native = skip ? undefined : await loadNative();
const backend: FfiBackend | undefined = skip
  ? undefined
  : runtime === "deno"
  ? (await import("../adapters/native/deno_backend.ts")).denoBackend
  : runtime === "bun"
  ? (await import("../adapters/native/bun_backend.ts")).bunBackend
  : (await import("../adapters/native/node_backend.ts")).nodeBackend;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The service of this flavour and path (private flavour). Windows has no futex_waitv: its
 * helpers always take turns on WaitOnAddress ("slices"), whatever path a test names.
 */
function stats(asked: "waitv" | "slices" = "waitv"): ServiceStats {
  const path = onWindows ? "slices" : asked;
  const all = serviceStats(backend!);
  const hit = Object.entries(all).find(([k]) => k.endsWith(`/${privateFutexName}/${path}`));
  assert.ok(hit, `no ${path} service in ${JSON.stringify(all)}`);
  return hit[1];
}

/** Until the helpers sleep on every registered word (a wake sent earlier could find none asleep). */
async function watched(path: "waitv" | "slices" = "waitv", entries?: number): Promise<void> {
  const t0 = performance.now();
  for (;;) {
    const s = stats(path);
    if (s.synced && (entries === undefined || s.entries === entries)) break;
    if (performance.now() - t0 > 10_000) assert.fail(`helpers never caught up: ${JSON.stringify(s)}`);
    await sleep(5);
  }
  // From "list built" to "asleep in the kernel": a wake sent before that finds no sleeper and,
  // the word unchanged, is lost. Under Wine (a Windows Node's helper is a worker, on a loaded
  // 2-core host) that took over 60 ms.
  await sleep(onWindows ? 250 : path === "slices" ? 60 : 20);
}

/** From a wake to its waiter's settling, with room (more under Wine). */
const SETTLE_MS = onWindows ? 300 : 100;

/** Which of `ps` have settled, and how (a microtask turn after the race). */
async function settledOf<T>(ps: Promise<T>[]): Promise<(T | "pending")[]> {
  return await Promise.all(ps.map((p) => Promise.race([p, sleep(0).then(() => "pending" as const)])));
}

test("1 000 pending async native waits: ≤ 5 threads over the runtime's own, < 100 MB, all settle; Deno's file reads unaffected", {
  skip,
  timeout: 180_000,
}, async () => {
  const r = await runChild("fixtures/native_async_load", ["1000", "50"], 150_000);
  assert.equal(r.timedOut, false, `the child did not finish: ${r.stdout}${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split("\n").pop()!);
  console.log(
    `${runtime}: 1000+50 pending waits — threads (${m.threadsFrom}) ${m.threadsRuntime} (runtime) → ${m.threadsDuring}, RSS ${m.rssBeforeMb} → ` +
      `${m.rssDuringMb} MB, set-up ${m.setupMs} ms, settle ${m.settleMs} ms` +
      (m.idleReadMs === null ? "" : `, readTextFile ${m.idleReadMs.toFixed(3)} ms idle / ${m.busyReadMs.toFixed(3)} ms with them pending`),
  );
  assert.ok(m.threadsDuring <= m.threadsRuntime + 5, `threads: ${m.threadsDuring} with the waits pending, ${m.threadsRuntime} before`);
  // Windows (no /proc): the wait service's own count of helper threads, at least one with waits pending.
  if (onWindows) assert.ok(m.threadsDuring >= 1, `helpers with 1050 waits pending: ${m.threadsDuring}`);
  assert.ok(m.rssDuringMb - m.rssBeforeMb < 100, `RSS grew by ${m.rssDuringMb - m.rssBeforeMb} MB`);
  if (runtime === "deno") {
    assert.ok(m.busyReadMs <= 1.2 * m.idleReadMs + 5, `Deno.readTextFile took ${m.busyReadMs} ms with the waits pending, ${m.idleReadMs} ms idle`);
  }
});

for (const how of ["abort", "close"]) {
  test(`an ${how === "abort" ? "aborted" : "closed"} async native wait (sliceMs 60 000) lets the process exit within 1 s of settling`, {
    skip,
    timeout: 120_000,
  }, async () => {
    const r = await runChild("fixtures/native_async_exit", [how], 90_000);
    const exitedAt = Date.now();
    assert.equal(r.timedOut, false, `the process did not exit: ${r.stdout}${r.stderr}`);
    assert.equal(r.code, 0, r.stderr);
    const m = /settled (\w+) after (\d+) ms, at epoch (\d+)/.exec(r.stdout);
    assert.ok(m, `the wait never settled: ${r.stdout}`);
    assert.equal(m[1], how === "abort" ? "AbortError" : "FutexClosedError");
    const lag = exitedAt - Number(m[3]);
    console.log(`${runtime} ${how}: settled after ${m[2]} ms, the process exited ${lag} ms later`);
    assert.ok(lag < 1000, `the process exited ${lag} ms after the wait settled`);
  });
}

test("wakeOne with three waiters on one word settles one at a time; a change settles the rest", { skip, timeout: 30_000 }, async () => {
  const f = native!.nativeFutex();
  const v = new Int32Array(new SharedArrayBuffer(8));
  const ps = [f.waitAsync(v, 1, 0), f.waitAsync(v, 1, 0), f.waitAsync(v, 1, 0)];
  await watched("waitv", 1);
  assert.equal(stats().entries, 1, "three waits on one word are one entry");
  f.wakeOne(v, 1);
  await sleep(SETTLE_MS);
  assert.deepEqual(await settledOf(ps), ["ok", "pending", "pending"], "one wake, the oldest waiter");
  await watched("waitv", 1);
  f.wakeOne(v, 1);
  await sleep(SETTLE_MS);
  assert.deepEqual(await settledOf(ps), ["ok", "ok", "pending"]);
  await watched("waitv", 1);
  Atomics.store(v, 1, 1);
  f.wakeOne(v, 1); // one wake, but the word moved: every waiter of it re-checks
  assert.deepEqual(await Promise.all(ps), ["ok", "ok", "not-equal"]);
  assert.equal(stats().waiters, 0);
  f.close();
});

test("wakeAll after a change settles every waiter of the word; protocols: Event.set wakes all, Semaphore.release(1) one", {
  skip,
  timeout: 30_000,
}, async () => {
  const f = native!.nativeFutex();
  const v = new Int32Array(new SharedArrayBuffer(8));
  const ps = Array.from({ length: 5 }, () => f.waitAsync(v, 0, 7 - 7));
  await watched("waitv", 1);
  Atomics.store(v, 0, 1);
  f.wakeAll(v, 0);
  assert.deepEqual(await Promise.all(ps), Array(5).fill("not-equal"));

  const ev = new ManualResetEvent({ futex: f });
  const evs = Array.from({ length: 5 }, () => ev.waitAsync({ timeout: 20_000 }));
  await watched("waitv", 1);
  ev.set();
  assert.deepEqual(await Promise.all(evs), Array(5).fill(true));

  const sem = new Semaphore(0, { futex: f });
  let acquired = 0;
  const acq = Array.from({ length: 5 }, () => sem.acquireAsync().then(() => acquired++));
  await watched("waitv", 1);
  sem.release(1);
  await sleep(200);
  assert.equal(acquired, 1, "release(1) lets exactly one acquire");
  sem.release(4);
  await Promise.all(acq);
  assert.equal(acquired, 5);
  f.close();
});

test(`more than ${SLOTS} distinct words: a second helper; beyond ${MAX_HELPERS * SLOTS} a RangeError naming the bound`, {
  skip,
  timeout: 60_000,
}, async () => {
  const f = native!.nativeFutex();
  const evs = Array.from({ length: 200 }, () => new ManualResetEvent({ futex: f }));
  const ps = evs.map((e) => e.waitAsync());
  await watched("waitv", 200);
  assert.ok(stats().helpers >= 2 && stats().helpers <= MAX_HELPERS, `${stats().helpers} helpers for 200 words`);
  for (const e of evs) e.set();
  assert.deepEqual(await Promise.all(ps), Array(200).fill(true));

  const v = new Int32Array(new SharedArrayBuffer(4 * (MAX_HELPERS * SLOTS + 1)));
  const many = Array.from({ length: MAX_HELPERS * SLOTS }, (_, i) => f.waitAsync(v, i, 0));
  await assert.rejects(f.waitAsync(v, MAX_HELPERS * SLOTS, 0), (e: Error) => {
    assert.equal(e.name, "RangeError");
    assert.match(e.message, new RegExp(`more than ${MAX_HELPERS * SLOTS} distinct words.*wait on fewer words`));
    return true;
  });
  await watched("waitv", MAX_HELPERS * SLOTS);
  for (let i = 0; i < many.length; i++) Atomics.store(v, i, 1);
  for (let i = 0; i < many.length; i++) f.wakeAll(v, i);
  assert.deepEqual(new Set(await Promise.all(many)), new Set(["not-equal"]));
  f.close();
});

test("the path without futex_waitv (forced): a bounded pool taking turns, same results", { skip, timeout: 60_000 }, async () => {
  const f = native!.nativeFutex({ asyncPath: "slices" } as NativeFutexOptions);
  const sem = new Semaphore(0, { futex: f });
  const evs = Array.from({ length: 40 }, () => new ManualResetEvent({ futex: f }));
  const acq = Array.from({ length: 30 }, () => sem.acquireAsync({ timeout: 30_000 }));
  const ps = evs.map((e) => e.waitAsync({ timeout: 30_000 }));
  await watched("slices", 41);
  const s = stats("slices");
  assert.equal(s.path, "slices");
  assert.ok(s.helpers >= 1 && s.helpers <= MAX_HELPERS, `${s.helpers} helpers`);
  sem.release(30);
  for (const e of evs) e.set();
  assert.deepEqual(await Promise.all(acq), Array(30).fill(true));
  assert.deepEqual(await Promise.all(ps), Array(40).fill(true));
  const t0 = performance.now();
  assert.equal(await f.waitAsync(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50), "timed-out");
  assert.ok(performance.now() - t0 >= 49);
  f.close();
});

test("close() with waits pending rejects them with FutexClosedError and lets go of the process", { skip, timeout: 30_000 }, async () => {
  const f = native!.nativeFutex();
  const other = native!.nativeFutex(); // same flavour, same helper: untouched by f.close()
  const v = new Int32Array(new SharedArrayBuffer(16));
  const before = keepAliveCount();
  const mine = [f.waitAsync(v, 0, 0), f.waitAsync(v, 0, 0), f.waitAsync(v, 1, 0), f.waitAsync(v, 2, 0, 60_000)];
  const theirs = other.waitAsync(v, 0, 0);
  await watched("waitv");
  assert.equal(keepAliveCount(), before + 5);
  f.close();
  for (const p of mine) await assert.rejects(p, FutexClosedError);
  assert.equal(keepAliveCount(), before + 1, "the closed futex's waits hold nothing");
  await watched("waitv", 1);
  Atomics.store(v, 0, 1);
  other.wakeAll(v, 0);
  assert.equal(await theirs, "not-equal");
  assert.equal(keepAliveCount(), before);
  assert.equal(stats().waiters, 0);
  other.close();
});

test("an abort settles at once and releases the process; the wait's timeout is the JS thread's", { skip, timeout: 30_000 }, async () => {
  const f = native!.nativeFutex({ sliceMs: 60_000 });
  const v = new Int32Array(new SharedArrayBuffer(4));
  const ac = new AbortController();
  const before = keepAliveCount();
  const p = f.waitAsync(v, 0, 0, undefined, ac.signal);
  await watched("waitv");
  const t0 = performance.now();
  ac.abort();
  assert.equal(await p, "ok");
  assert.ok(performance.now() - t0 < 50);
  assert.equal(keepAliveCount(), before);
  const t1 = performance.now();
  assert.equal(await f.waitAsync(v, 0, 0, 80), "timed-out");
  assert.ok(performance.now() - t1 >= 79);
  f.close();
});

test("a worker terminated with async native waits pending: its helper goes away with it", {
  skip: skip ||
    (onWindows ? "Wine shows no thread names: the test tells the worker and its helper apart by /proc/self/task/N/comm" : false),
  timeout: 60_000,
}, async () => {
  const r = await runChild("fixtures/native_async_terminate", [], 30_000);
  assert.equal(r.timedOut, false, `the child did not finish: ${r.stdout}${r.stderr}`);
  assert.equal(r.code, 0, r.stderr);
  const m = JSON.parse(r.stdout.trim().split("\n").pop()!);
  console.log(`${runtime}: worker threads ${m.baselineWorkers} → ${m.withWorkerWorkers} (worker + helper) → ${m.afterWorkers.join(",")}`);
  assert.equal(m.withWorkerWorkers, m.baselineWorkers + 2, "the worker and one helper for its 100 waits");
  const back = (m.afterWorkers as number[]).findIndex((n) => n === m.baselineWorkers);
  assert.ok(back >= 0 && back < 20, `worker threads after terminate(): ${m.afterWorkers.join(",")} (baseline ${m.baselineWorkers})`);
  assert.ok((m.afterWorkers as number[]).slice(back).every((n) => n === m.baselineWorkers), "and stay gone");
});

test("Deno without --allow-read: blocking native waits work, an async one names the flag its helper needs", {
  skip: skip || (runtime !== "deno" ? "Deno-only: --allow-read (Bun and Node need no read permission here)" : false),
  timeout: 60_000,
}, async () => {
  const out = await denoWithoutPermissions(["run", "--no-prompt", "--allow-ffi", testScriptPath("fixtures/native_async_noread")]);
  assert.match(out, /^blocking: timed-out$/m);
  assert.match(out, /^FfiPermissionError: async native waits run in a helper worker .*--allow-read=/m);
});
