/**
 * Async waits: timeouts, AbortSignal, set from a worker, and the process keep-alive. The
 * keep-alive cases of docs/design.md (Keep-alive) run in child processes of the same runtime:
 * first with the raw Atomics.waitAsync (showing each runtime's failure as docs/design.md
 * records it), then through the library (fixed everywhere), which also must not hold the
 * process after the wait settles (a leaked hold would hang the child into its kill timeout).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { atomicsFutex, keepAliveCount, ManualResetEvent } from "../mod.ts";
import { chaosFutex } from "../testing.ts";
import { runChild, runtime, runWorkers } from "./support/runtime.ts";

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("waitAsync resolves true when set later, false after its timeout; no keep-alive left", { timeout: 60_000 }, async () => {
  const ev = new ManualResetEvent();
  const p = ev.waitAsync({ timeout: 5000 });
  assert.equal(keepAliveCount(), 1);
  setTimeout(() => ev.set(), 5);
  assert.equal(await p, true);
  ev.reset();
  const t0 = performance.now();
  assert.equal(await ev.waitAsync({ timeout: 30 }), false);
  assert.ok(performance.now() - t0 >= 29, "timed out early");
  assert.equal(keepAliveCount(), 0);
});

test("waitAsync under the chaos futex still times out on schedule and sees a set", { timeout: 60_000 }, async () => {
  const ev = new ManualResetEvent({ futex: chaosFutex(atomicsFutex, { seed: 3, spuriousRate: 0.5 }) });
  const t0 = performance.now();
  assert.equal(await ev.waitAsync({ timeout: 30 }), false);
  assert.ok(performance.now() - t0 >= 29);
  setTimeout(() => ev.set(), 10);
  assert.equal(await ev.waitAsync({ timeout: 5000 }), true);
  assert.equal(keepAliveCount(), 0);
});

test("an AbortSignal rejects with its reason, releases the keep-alive, and leaves other waiters working", { timeout: 60_000 }, async () => {
  const ev = new ManualResetEvent();
  const ac = new AbortController();
  const aborted = ev.waitAsync({ signal: ac.signal });
  const other = ev.waitAsync({ timeout: 5000 });
  await tick(5);
  assert.equal(keepAliveCount(), 2);
  const reason = new Error("cancelled by test");
  ac.abort(reason);
  await assert.rejects(aborted, (e) => e === reason);
  assert.equal(keepAliveCount(), 1);
  assert.equal(new Int32Array(ev.handle.buffer, 0, 1)[0], -1); // the other waiter still sleeps on BUSY
  ev.set();
  assert.equal(await other, true);
  assert.equal(keepAliveCount(), 0);
});

test("an already-aborted signal rejects at once without touching the word", { timeout: 60_000 }, async () => {
  const ev = new ManualResetEvent();
  await assert.rejects(ev.waitAsync({ signal: AbortSignal.abort(new RangeError("early")) }), RangeError);
  assert.equal(new Int32Array(ev.handle.buffer, 0, 1)[0], 1);
  await assert.rejects(ev.waitAsync({ signal: AbortSignal.timeout(10) }), (e: Error) => e.name === "TimeoutError");
  assert.equal(keepAliveCount(), 0);
});

test("waitAsync on the main thread is woken by a worker's set", { timeout: 60_000 }, async () => {
  const main = new ManualResetEvent();
  const worker = runWorkers("workers/set_later", [{ role: "setter", handle: main.handle }], 10_000);
  assert.equal(await main.waitAsync({ timeout: 5000 }), true);
  await worker;
  assert.equal(keepAliveCount(), 0);
});

// What docs/design.md (Keep-alive) records for the raw Atomics.waitAsync with these pinned runtimes.
const rawSettles: Record<string, Record<string, boolean>> = {
  "raw-lone": { node: false, deno: false, bun: false },
  "raw-unref-worker": { node: false, deno: true, bun: true },
  "raw-last-timer": { node: true, deno: false, bun: true },
};

for (const [raw, expected] of Object.entries(rawSettles)) {
  const lib = raw.replace("raw-", "lib-");
  test(`keep-alive: ${raw} ${expected[runtime] ? "settles" : "is dropped"} raw in ${runtime}; ${lib} settles and exits`, { timeout: 60_000 }, async (t) => {
    const r = await runChild("fixtures/keepalive", [raw], 15_000);
    t.diagnostic(`raw: code ${r.code}, stdout ${JSON.stringify(r.stdout.trim())}, ${Math.round(r.ms)} ms`);
    assert.equal(r.timedOut, false, "raw child hung");
    assert.equal(r.stdout.includes("settled"), expected[runtime], `raw behaviour changed: ${r.stdout}${r.stderr}`);
    const l = await runChild("fixtures/keepalive", [lib], 15_000);
    t.diagnostic(`lib: code ${l.code}, stdout ${JSON.stringify(l.stdout.trim())}, ${Math.round(l.ms)} ms`);
    assert.equal(l.timedOut, false, "library child did not exit: a keep-alive leaked");
    assert.equal(l.code, 0, l.stderr);
    assert.match(l.stdout, /settled (timed-out|ok|5\/5)/);
  });
}

test("keep-alive: an event's lone timed waitAsync settles false, and an aborted one lets the process exit", { timeout: 60_000 }, async () => {
  const a = await runChild("fixtures/keepalive", ["lib-event-lone"], 15_000);
  assert.equal(a.timedOut, false);
  assert.equal(a.stdout.trim(), "settled false");
  const b = await runChild("fixtures/keepalive", ["lib-abort"], 15_000);
  assert.equal(b.timedOut, false, "an aborted wait held the process open");
  assert.equal(b.code, 0, b.stderr);
  assert.equal(b.stdout.trim(), "settled rejected stop");
});
