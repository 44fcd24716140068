/**
 * QEMU-derived event scenarios S1–S7 (docs/testing.md) with real workers, under the plain
 * Atomics futex (default spin policy) and under the chaos futex (spurious wakes, delays; half
 * the workers never spin). Sizes are scaled for a 2-core machine running three runtimes; set
 * FUTEX_TEST_SCALE to run more rounds. Every wait is bounded and a watchdog ends each scenario.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { ManualResetEvent } from "../mod.ts";
import { BYTES, eventOffset } from "./support/event_layout.ts";
import { rounds, runtime, runWorkers, seedBase, type WorkerReport } from "./support/runtime.ts";

interface Role {
  role: string;
  id?: number;
}

function scenario(
  name: string,
  chaos: boolean,
  events: number,
  roleList: Role[],
  n: number,
  waiters: number,
  timeoutMs: number,
  mixed = false,
): Promise<WorkerReport[]> {
  const sab = new SharedArrayBuffer(BYTES);
  for (let i = 0; i < events; i++) new ManualResetEvent({ buffer: sab, byteOffset: eventOffset(i) });
  const datas = roleList.map((r, k) => ({
    scenario: name,
    role: r.role,
    id: r.id ?? 0,
    sab,
    chaos,
    async: mixed && k % 2 === 0, // half of the workers (the driver first) use the async forms
    seed: 1000 * k + 17 + seedBase + (mixed ? 3 : 0),
    spin: chaos && k % 2 === 1 ? 0 : undefined,
    rounds: n,
    waiters,
  }));
  const words = new Int32Array(sab);
  return runWorkers(
    "workers/event_roles",
    datas,
    timeoutMs,
    () => `event words [${[0, 1].map((i) => words[eventOffset(i) / 4]).join(", ")}]`,
  );
}

const many = (role: string, count: number): Role[] => Array.from({ length: count }, (_, id) => ({ role, id }));

for (const chaos of [false, true]) {
  const mode = chaos ? "chaos futex" : "plain futex";
  const k = chaos ? 0.25 : 1;

  test(`S1 remote-call handshake, 5 workers (${mode})`, { timeout: 300_000 }, async () => {
    const n = rounds(1000 * k);
    await scenario("s1", chaos, 1, [{ role: "driver" }, ...many("remote", 5)], n, 5, 60_000);
  });

  test(`S2 ping-pong on two events (${mode})`, { timeout: 300_000 }, async (t) => {
    const n = rounds(20_000 * k);
    const [ping] = await scenario("s2", chaos, 2, [{ role: "ping" }, { role: "pong" }], n, 0, 60_000);
    t.diagnostic(`${runtime}: ${n} round trips, ${Math.round(ping.nsPerRoundTrip as number)} ns each`);
  });

  test(`S3 broadcast to 8 waiters on alternating events (${mode})`, { timeout: 300_000 }, async () => {
    const n = rounds(2000 * k);
    const [driver] = await scenario("s3", chaos, 2, [{ role: "driver" }, ...many("waiter", 8)], n, 8, 90_000);
    assert.equal(driver.passed, 8 * n);
  });

  test(`S4 reset while BUSY keeps BUSY; set releases 4 sleepers (${mode})`, { timeout: 300_000 }, async () => {
    await scenario("s4", chaos, 1, [{ role: "driver" }, ...many("waiter", 4)], 20, 4, 60_000);
  });

  test(`S5 spurious-wake storm: timed waits hold, flags visible (${mode})`, { timeout: 300_000 }, async () => {
    await scenario("s5", chaos, 1, [{ role: "waiter" }, { role: "setter" }, { role: "storm" }], 20, 0, 60_000);
  });

  test(`S6 destroy/reuse the word right after wait (${mode})`, { timeout: 300_000 }, async () => {
    const n = rounds(20_000 * k);
    const [waiter] = await scenario("s6", chaos, 1, [{ role: "waiter" }, { role: "setter" }], n, 0, 60_000);
    assert.equal(waiter.reused, Math.floor(n / 2));
  });

  test(`S1 remote-call handshake, 5 workers (${mode}, the driver async)`, { timeout: 300_000 }, async () => {
    const n = rounds(500 * k);
    await scenario("s1", chaos, 1, [{ role: "driver" }, ...many("remote", 5)], n, 5, 60_000, true);
  });

  test(`S3 broadcast to 8 waiters on alternating events (${mode}, half the waiters async)`, { timeout: 300_000 }, async () => {
    const n = rounds(1000 * k);
    const [driver] = await scenario("s3", chaos, 2, [{ role: "driver" }, ...many("waiter", 8)], n, 8, 90_000, true);
    assert.equal(driver.passed, 8 * n);
  });

  test(`S4 reset while BUSY keeps BUSY; set releases 4 sleepers (${mode}, half the waiters async)`, { timeout: 300_000 }, async () => {
    await scenario("s4", chaos, 1, [{ role: "driver" }, ...many("waiter", 4)], 20, 4, 60_000, true);
  });

  test(`S7 Dekker idiom, no lost wakeup (${mode}, the waiter async)`, { timeout: 300_000 }, async () => {
    const n = rounds(10_000 * k);
    await scenario("s7", chaos, 1, [{ role: "waiter" }, { role: "setter" }], n, 0, 60_000, true);
  });

  test(`S7 Dekker idiom, no lost wakeup (${mode})`, { timeout: 300_000 }, async () => {
    const n = rounds(20_000 * k);
    await scenario("s7", chaos, 1, [{ role: "waiter" }, { role: "setter" }], n, 0, 60_000);
  });
}
