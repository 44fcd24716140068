/**
 * Engines without Atomics.waitAsync (tests/fixtures/no_wait_async.ts, in a child process): in
 * Deno and Bun the async forms run through one helper Worker for the whole thread — a lock behind
 * 20 withLockAsync calls, an event, a timeout, an abort, a permit; in Node, which has no global
 * Worker, they refuse with a TypeError saying so. The browser row runs the same path in Chromium
 * and Firefox.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { runChild, runtime } from "./support/runtime.ts";

test("without Atomics.waitAsync: the async forms go through one helper Worker (Deno, Bun) or refuse (Node)", { timeout: 60_000 }, async () => {
  const r = await runChild("fixtures/no_wait_async", [], 30_000);
  assert.equal(r.timedOut, false, `the fixture hung:\n${r.stdout}${r.stderr}`);
  const line = r.stdout.trim().split("\n").pop() ?? "";
  const out = JSON.parse(line) as Record<string, unknown>;
  if (runtime === "node") {
    assert.equal(out.ok, false);
    assert.match(String(out.error), /^TypeError: Atomics\.waitAsync is missing in this engine, and there is no Worker/);
    return;
  }
  assert.equal(out.ok, true, String(out.error));
  assert.equal(out.inside, 20);
  assert.equal(out.set, true);
  assert.equal(out.timedOut, false);
  assert.ok(Number(out.waitedMs) >= 29, `acquireAsync({ timeout: 30 }) gave up after ${String(out.waitedMs)} ms`);
  assert.equal(out.aborted, "cancelled");
  assert.equal(out.got, true);
  assert.equal(out.value, 0);
  assert.equal(out.helpers, 1);
});

const NO_HELPER = runtime === "node" ? "Node 20 has no global Worker, so there is no helper Worker to test (its refusal is tested above)" : false;

/** Run tests/fixtures/no_wait_async_cancel.ts with `mode`; its JSON line. */
async function cancelFixture(mode: "pass-on" | "withdraw"): Promise<Record<string, unknown>> {
  const r = await runChild("fixtures/no_wait_async_cancel", [mode], 30_000);
  assert.equal(r.timedOut, false, `the fixture hung:\n${r.stdout}${r.stderr}`);
  const out = JSON.parse(r.stdout.trim().split("\n").pop() ?? "") as Record<string, unknown>;
  assert.equal(out.ok, true, String(out.error));
  assert.equal(out.helpers, 1);
  return out;
}

test("without Atomics.waitAsync: a wait aborted after the helper took a wake for it passes that wake on; the helper's outstanding count drains to 0", {
  skip: NO_HELPER,
  timeout: 60_000,
}, async () => {
  const out = await cancelFixture("pass-on");
  assert.deepEqual(out.fifo, ["ok", "pending", "not-equal"], "one wake: the oldest wait of the word takes it");
  assert.equal(out.a, "ok", "the aborted wait settles at once");
  assert.equal(out.b, "ok", `the second waiter never got the wake the first one's helper wait had taken (after ${String(out.bMs)} ms)`);
  assert.ok(Number(out.bMs) < 2000, `the second waiter returned after ${String(out.bMs)} ms`);
  assert.equal(out.forwards, 1, "exactly one wake passed on");
  assert.equal(out.outstanding, 0, "every wait handed to the helper had its outcome delivered");
});

// Bun runs none of a Worker's onmessage while that Worker keeps posting MessageChannel messages to
// itself, and Deno runs them only after about 1.3 s: the helper, which steps through such messages
// for as long as it has a group, therefore yields through a timer every few steps. Without that,
// this cancel was never read in Bun and read 1.3 s late in Deno.
test("without Atomics.waitAsync: a wait aborted while the helper holds it is withdrawn there (its outcome comes back, the outstanding count drains to 0)", {
  skip: NO_HELPER,
  timeout: 60_000,
}, async () => {
  const out = await cancelFixture("withdraw");
  assert.equal(out.withdrawn, "ok", "the aborted wait settles at once");
  assert.equal(out.outstanding, 0, `the withdrawn wait's outcome never came back from the helper (waited ${String(out.drainMs)} ms)`);
  assert.ok(Number(out.drainMs) < 500, `the helper read the cancel only after ${String(out.drainMs)} ms (it serves a group in 10 ms slices)`);
});
