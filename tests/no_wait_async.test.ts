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
