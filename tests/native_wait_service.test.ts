/**
 * The native wait service's control word (adapters/native/wait_service.ts) on a real kernel, in
 * Deno, Bun and Node 26 on Linux (skipped elsewhere with the reason printed): a service built
 * here with its own wake-one, slowed down on purpose, shows the order of a registration's bump —
 * CTL += 1, then the wake. The helper a wake reaches rebuilds its list at once and records the CTL
 * it read (SEEN); had the wake come first, a helper quicker than the waker's next step would read
 * the old CTL and sleep on it, and nothing wakes it again before its poll (POLL_MS).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { openRow } from "../adapters/native/bind.ts";
import { IDLE_STOP_MS, WaitService } from "../adapters/native/wait_service.ts";
import { POLL_MS } from "../adapters/native/wait_helper.ts";
import { loadBackend, loadNative, nativeSkip } from "../scripts/lib/native.ts";
import { tick } from "./support/runtime.ts";

const skip = nativeSkip;
const native = skip ? undefined : await loadNative();
const backend = skip ? undefined : await loadBackend();

/** Block this thread for `ms` (a wake that takes its time). */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

test(`a registration bumps CTL before it wakes the helper: with a slow wake, the helper it woke is synced at once (not at its ${POLL_MS} ms poll)`, {
  skip,
  timeout: 30_000,
}, async () => {
  const f = native!.nativeFutex();
  const { row } = openRow(backend!);
  let slowMs = 0;
  const wakeOne = (v: Int32Array, i: number): void => {
    f.wakeOne(v, i);
    sleepSync(slowMs); // the woken helper runs meanwhile
  };
  const service = new WaitService(backend!, row, false, "waitv", wakeOne);
  const v = new Int32Array(new SharedArrayBuffer(16));
  const owner = {};
  const first = service.wait(owner, v, 0, backend!.pointerTo(v, 0), 0, 10_000, undefined);
  for (const t0 = performance.now(); !service.stats().synced;) {
    if (performance.now() - t0 > 5000) assert.fail(`the helper never synced: ${JSON.stringify(service.stats())}`);
    await tick(2);
  }
  await tick(50); // from "list built" to asleep in futex_waitv on [CTL, word 0]
  slowMs = 150;
  const second = service.wait(owner, v, 1, backend!.pointerTo(v, 1), 0, 10_000, undefined);
  slowMs = 0;
  const t0 = performance.now();
  while (!service.stats().synced) {
    if (performance.now() - t0 > 200) {
      assert.fail(`the helper woken for the second word slept on a stale CTL: still not synced after 200 ms (${JSON.stringify(service.stats())})`);
    }
    await tick(2);
  }
  assert.equal(service.stats().entries, 2);
  Atomics.store(v, 0, 1);
  Atomics.store(v, 1, 1);
  f.wakeAll(v, 0);
  f.wakeAll(v, 1);
  assert.deepEqual(await Promise.all([first, second]), ["not-equal", "not-equal"]);
  assert.equal(service.stats().waiters, 0);
  // The idle helper stops IDLE_STOP_MS later through this service's wakeOne, that is through
  // f: close f only once it has (closed earlier, that late wake throws into whatever test runs
  // then — Bun runs every file in one process, and under Wine the files after this one are
  // still running when it fires).
  for (const t1 = performance.now(); service.stats().helpers > 0;) {
    if (performance.now() - t1 > IDLE_STOP_MS + 5000) assert.fail(`the idle helper never stopped: ${JSON.stringify(service.stats())}`);
    await tick(20);
  }
  f.close();
});
