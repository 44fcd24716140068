/**
 * Barrier in one thread (other parties are async waits of this thread, words written by hand,
 * or moves played right after a read: tests/support/interleave.ts): exact count and generation
 * words and futex calls per transition, one leader per generation, breaking by timeout and
 * abort, the races a give-up or the last arrival can lose, reset, placement and bad input.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { atomicsFutex, Barrier, BARRIER_BROKEN, type BarrierWaitResult, BrokenBarrierError, keepAliveCount, Mutex } from "../mod.ts";
import { countingFutex } from "../testing.ts";
import { afterNextLoad, type Armed, busyWait } from "./support/interleave.ts";
import { scriptedFutex } from "./support/scripted_futex.ts";

const words = (b: Barrier): Int32Array => new Int32Array(b.handle.buffer, b.handle.byteOffset, 2);
const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const isBroken = (e: unknown): boolean => e instanceof BrokenBarrierError && e.name === "BrokenBarrierError";

test("words per transition: arrivals count up, the last turns n−1 into 0 and bumps the generation, one wakeAll", { timeout: 10_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const b = new Barrier(3, { futex });
  const w = words(b);
  assert.deepEqual([...w], [0, 0]);
  assert.equal(b.handle.parties, 3);
  assert.equal(b.handle.kind, "Barrier");
  assert.equal(b.handle.domain, "atomics");
  const p1 = b.waitAsync();
  assert.deepEqual([...w], [1, 0]);
  const p2 = Barrier.from(b.handle, { futex }).waitAsync();
  assert.deepEqual([...w], [2, 0]);
  await tick(5);
  assert.equal(futex.calls.waitAsync, 2);
  assert.deepEqual(b.wait(), { isLeader: true });
  assert.deepEqual([...w], [0, 1]);
  assert.equal(futex.calls.wakeAll, 1);
  assert.deepEqual(await p1, { isLeader: false });
  assert.deepEqual(await p2, { isLeader: false });
  assert.equal(futex.calls.wait, 0);
  assert.equal(b.generation, 1);
  assert.equal(keepAliveCount(), 0);
});

test("one party: every wait is the leader, no futex call; the generation counts the trips", { timeout: 10_000 }, () => {
  const futex = countingFutex(atomicsFutex);
  const b = new Barrier(1, { futex });
  for (let i = 0; i < 5; i++) assert.equal(b.wait().isLeader, true);
  assert.deepEqual([...words(b)], [0, 5]);
  assert.deepEqual(futex.calls, { wait: 0, waitAsync: 0, wakeOne: 0, wakeAll: 0 });
});

test("exactly one leader per generation, over many generations, whichever party arrives last", { timeout: 10_000 }, async () => {
  const b = new Barrier(4);
  const others = [1, 2, 3].map(() => Barrier.from(b.handle));
  for (let g = 0; g < 50; g++) {
    const order = [b, ...others];
    const last = order.splice(g % 4, 1)[0];
    const pending = order.map((x) => x.waitAsync({ timeout: 5000 }));
    const leader = last.wait();
    const results = [leader, ...(await Promise.all(pending))];
    assert.equal(results.filter((r) => r.isLeader).length, 1);
    assert.equal(leader.isLeader, true);
    assert.equal(b.generation, g + 1);
  }
});

test("the generation wraps at 2³¹ (bit 31 stays BROKEN's)", { timeout: 10_000 }, () => {
  const b = new Barrier(1);
  Atomics.store(words(b), 1, 0x7fffffff);
  b.wait();
  assert.deepEqual([...words(b)], [0, 0]);
  assert.equal(b.isBroken, false);
});

test("a timed-out party throws TimeoutError and breaks the generation: every current and later waiter gets BrokenBarrierError", { timeout: 10_000 }, async () => {
  const futex = countingFutex(atomicsFutex);
  const b = new Barrier(3, { futex, spin: 0 });
  const w = words(b);
  const other = b.waitAsync();
  await tick(2);
  const t0 = performance.now();
  assert.throws(() => b.wait(30), (e: Error) => e.name === "TimeoutError" && /broken/.test(e.message));
  assert.ok(performance.now() - t0 >= 29, "returned before its deadline");
  assert.equal(w[1], BARRIER_BROKEN | 0, "generation 0 marked BROKEN");
  assert.equal(w[0], 2, "arrivals stay counted until reset");
  assert.equal(futex.calls.wakeAll, 1, "the break wakes every sleeper");
  await assert.rejects(other, isBroken);
  assert.throws(() => b.wait(), isBroken);
  await assert.rejects(b.waitAsync(), isBroken);
  assert.equal(w[0], 2, "a wait on a broken barrier changes nothing");
  assert.equal(b.isBroken, true);
  b.reset();
  assert.deepEqual([...w], [0, 2], "reset: count 0, generation + 2, BROKEN cleared");
  assert.equal(b.isBroken, false);
  const again = b.waitAsync();
  const again2 = b.waitAsync();
  assert.equal(b.wait().isLeader, true);
  assert.deepEqual([await again, await again2], [{ isLeader: false }, { isLeader: false }]);
  assert.deepEqual([...w], [0, 3]);
});

test("wait(0) by a non-last party breaks at once; by the last it trips", { timeout: 10_000 }, async () => {
  const b = new Barrier(2);
  assert.throws(() => b.wait(0), (e: Error) => e.name === "TimeoutError");
  assert.equal(b.isBroken, true);
  b.reset();
  const p = b.waitAsync();
  assert.equal(b.wait(0).isLeader, true);
  assert.deepEqual(await p, { isLeader: false });
});

test("an aborted waitAsync rejects with the reason and breaks the barrier for the other waiters", { timeout: 10_000 }, async () => {
  const b = new Barrier(3);
  const ac = new AbortController();
  const a = b.waitAsync({ signal: ac.signal });
  const other = Barrier.from(b.handle).waitAsync({ timeout: 5000 });
  await tick(5);
  ac.abort(new Error("leaving"));
  await assert.rejects(a, /leaving/);
  await assert.rejects(other, isBroken);
  assert.equal(b.isBroken, true);
  assert.equal(keepAliveCount(), 0);
  // an already-aborted signal rejects before arriving: nothing changed
  b.reset();
  await assert.rejects(b.waitAsync({ signal: AbortSignal.abort() }), (e: Error) => e.name === "AbortError");
  assert.deepEqual([...words(b)], [0, 2]);
});

test("a waitAsync timeout rejects with TimeoutError and breaks", { timeout: 10_000 }, async () => {
  const b = new Barrier(2);
  await assert.rejects(b.waitAsync({ timeout: 10 }), (e: Error) => e.name === "TimeoutError");
  assert.equal(b.isBroken, true);
});

test("reset() under a sleeping waiter wakes it with BrokenBarrierError", { timeout: 10_000 }, async () => {
  const b = new Barrier(2);
  const p = b.waitAsync();
  await tick(5);
  b.reset();
  await assert.rejects(p, isBroken);
  assert.deepEqual([...words(b)], [0, 2]);
});

test("a waiter of generation g released by g+1 even if g+1 is already broken", { timeout: 10_000 }, async () => {
  const b = new Barrier(2);
  const p = b.waitAsync();
  await tick(5);
  Atomics.store(words(b), 0, 0);
  Atomics.store(words(b), 1, 1 | BARRIER_BROKEN); // g tripped, then a party of g+1 gave up
  atomicsFutex.wakeAll(words(b), 1);
  assert.deepEqual(await p, { isLeader: false });
});

test("a generation broken between a party's generation read and its arrival: the last arriver throws too", { timeout: 10_000 }, () => {
  const b = new Barrier(1);
  Atomics.store(words(b), 1, BARRIER_BROKEN | 0);
  assert.throws(() => b.wait(), isBroken);
  assert.deepEqual([...words(b)], [0, BARRIER_BROKEN | 0]);
});

test("placement: 8 bytes at { buffer, byteOffset }; two barriers side by side", { timeout: 10_000 }, () => {
  const sab = new SharedArrayBuffer(16);
  const a = new Barrier(1, { buffer: sab, byteOffset: 0 });
  const c = new Barrier(1, { buffer: sab, byteOffset: 8 });
  a.wait();
  c.wait();
  c.wait();
  assert.deepEqual([...new Int32Array(sab)], [0, 1, 0, 2]);
  assert.throws(() => new Barrier(2, { buffer: sab, byteOffset: 12 }), { name: "RangeError", message: /needs 8.*byteOffset ≤ 8/ });
  assert.throws(() => new Barrier(2, { buffer: new SharedArrayBuffer(4) }), RangeError);
  assert.throws(() => new Barrier(2, { buffer: sab, byteOffset: 2 }), { name: "RangeError", message: /multiple of 4/ });
});

test("bad input is refused with what to pass, and changes nothing", { timeout: 10_000 }, () => {
  assert.throws(() => new Barrier(0), { name: "RangeError", message: /parties must be a whole number from 1/ });
  assert.throws(() => new Barrier(-1), RangeError);
  assert.throws(() => new Barrier(1.5), RangeError);
  assert.throws(() => new Barrier("2" as unknown as number), TypeError);
  assert.throws(() => new Barrier(2, null as unknown as undefined), TypeError);
  const b = new Barrier(2);
  assert.throws(() => b.wait(-1), RangeError);
  assert.throws(() => b.wait("1" as unknown as number), TypeError);
  assert.rejects(b.waitAsync({ timeout: -5 }), RangeError);
  assert.deepEqual([...words(b)], [0, 0], "no arrival was counted");
  assert.throws(() => Barrier.from({ buffer: b.handle.buffer, byteOffset: 0 } as never), { name: "TypeError", message: /no parties/ });
  assert.throws(() => Barrier.from(new Mutex().handle as never), { name: "TypeError", message: /belongs to a Mutex/ });
  assert.throws(() => Barrier.from({ ...b.handle, parties: 0 }), RangeError);
});

test("a corrupted count word: TypeError naming the value, the words left as they are", { timeout: 10_000 }, () => {
  const b = new Barrier(3);
  const w = words(b);
  Atomics.store(w, 0, 7);
  assert.throws(() => b.wait(), { name: "TypeError", message: /holds 7, which is no count of arrivals \(0 to 2 for 3 parties\)/ });
  assert.throws(() => Barrier.from(b.handle), { name: "TypeError", message: /holds 7/ });
  assert.deepEqual([...w], [7, 0]);
  Atomics.store(w, 0, -1);
  assert.throws(() => b.wait(), { name: "TypeError", message: /holds -1/ });
});

test("a new Barrier over a word with parties waiting is refused", { timeout: 10_000 }, () => {
  const b = new Barrier(3);
  void b.waitAsync({ timeout: 1 }).catch(() => {});
  assert.throws(() => new Barrier(3, { buffer: b.handle.buffer }), { name: "TypeError", message: /parties waiting.*Barrier\.from/ });
});

test("a give-up that finds the generation already tripped returns released, not broken: wait(ms), waitAsync({ timeout }), waitAsync({ signal })", { timeout: 10_000 }, async () => {
  // The last party arrives after the waiter's last look at the generation and before its
  // give-up's CAS: the party was released, and the barrier must not be broken.
  const outcome = async (form: string): Promise<string> => {
    const futex = scriptedFutex();
    const b = new Barrier(2, { futex, spin: 0 });
    const last = Barrier.from(b.handle, { futex });
    const w = words(b);
    let leader: BarrierWaitResult | undefined;
    const arrive = (): void => {
      leader = last.wait(); // the last party (another thread): count 1 → 0, generation 0 → 1, wake all
    };
    let result: BarrierWaitResult;
    try {
      if (form === "waitAsync({ signal })") {
        futex.hook = () => "pending";
        const ac = new AbortController();
        const p = b.waitAsync({ signal: ac.signal });
        assert.equal(futex.pending, 1, "asleep");
        arrive(); // the generation trips (its wake is on its way) ...
        ac.abort(new Error("leaving")); // ... as the waiter's abort lands: the abort is seen first, then the CAS finds generation 1
        result = await p;
      } else {
        const TIMEOUT = 5;
        let armed: Armed | undefined;
        futex.hook = () => { // a sleep that ends past the deadline; the last party arrives right after the waiter's next look
          busyWait(TIMEOUT + 2);
          armed = afterNextLoad(w, 1, arrive);
          return "timed-out";
        };
        try {
          result = form === "wait(ms)" ? b.wait(TIMEOUT) : await b.waitAsync({ timeout: TIMEOUT });
        } finally {
          armed?.restore();
        }
        assert.equal(armed?.fired, true, "the last arrival came between the waiter's last look and its give-up");
      }
    } catch (e) {
      return `${(e as Error).name}: ${(e as Error).message}`;
    }
    assert.deepEqual(leader, { isLeader: true });
    if (result.isLeader) return "leader";
    assert.deepEqual([...w], [0, 1], "generation 1, not broken");
    assert.equal(b.isBroken, false);
    futex.hook = () => "pending"; // the next generation trips as usual
    const next = b.waitAsync({ timeout: 1000 });
    assert.deepEqual(last.wait(), { isLeader: true });
    futex.settleAll();
    assert.deepEqual(await next, { isLeader: false }, `${form}: the next generation`);
    assert.deepEqual([...w], [0, 2]);
    return "released";
  };
  const forms = ["wait(ms)", "waitAsync({ timeout })", "waitAsync({ signal })"];
  const got: Record<string, string> = {};
  for (const form of forms) got[form] = await outcome(form);
  assert.deepEqual(got, Object.fromEntries(forms.map((f) => [f, "released"])), "released: neither BrokenBarrierError nor the party's own error");
});

test("a generation broken right after the last arriver read it (interleaved): the last arriver throws BrokenBarrierError, the break stays", { timeout: 10_000 }, async () => {
  for (const form of ["wait", "waitAsync"]) {
    const b = new Barrier(2, { futex: scriptedFutex() });
    const w = words(b);
    Atomics.store(w, 0, 1); // the other party (another thread) has arrived and waits with a timeout ...
    const armed = afterNextLoad(w, 1, () => {
      assert.equal(Atomics.compareExchange(w, 1, 0, BARRIER_BROKEN | 0), 0); // ... and gives up just after our generation read
    });
    try {
      if (form === "wait") assert.throws(() => b.wait(), isBroken);
      else await assert.rejects(b.waitAsync(), isBroken);
    } finally {
      armed.restore();
    }
    assert.equal(armed.fired, true);
    assert.equal(w[1], BARRIER_BROKEN | 0, `${form}: the generation stays broken (no trip over a break)`);
    assert.equal(b.isBroken, true);
  }
});

test("the last arrival through waitAsync is the leader; the parties it releases are not", { timeout: 10_000 }, async () => {
  const b = new Barrier(3);
  const p1 = b.waitAsync({ timeout: 5000 });
  const p2 = Barrier.from(b.handle).waitAsync({ timeout: 5000 });
  assert.deepEqual(await Barrier.from(b.handle).waitAsync({ timeout: 5000 }), { isLeader: true });
  assert.deepEqual([await p1, await p2], [{ isLeader: false }, { isLeader: false }]);
  assert.deepEqual(await new Barrier(1).waitAsync(), { isLeader: true }, "one party: every waitAsync leads");
  assert.equal(b.generation, 1);
});
