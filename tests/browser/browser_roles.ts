/**
 * Worker roles only the browser row needs (the scenario roles of tests/workers/ run as they
 * are): blocking guard() loops beside the page's async callers, a holder the page's main thread
 * contends with, and a setter of many events. Same report protocol as tests/workers/.
 */

import { LockCnt, ManualResetEvent, Mutex, Semaphore } from "../../mod.ts";
import { B, wordOffset } from "./layout.ts";
import { data as d, fail, futex, type RoleFn, runRole, sleepMs } from "./worker_env.ts";

const i32 = new Int32Array(d.sab);
const LIMIT_MS = 10_000;

function awaitAtLeast(idx: number, target: number, limitMs = LIMIT_MS): void {
  const end = performance.now() + limitMs;
  for (;;) {
    const v = Atomics.load(i32, idx);
    if (v >= target) return;
    const left = end - performance.now();
    if (left <= 0) fail(`harness: slot ${idx} stuck at ${v}, wanted ${target}`);
    Atomics.wait(i32, idx, v, left);
  }
}

function publish(idx: number, v: number): void {
  Atomics.store(i32, idx, v);
  Atomics.notify(i32, idx);
}

const roles: Record<string, RoleFn> = {
  // Blocking guard() in a loop, beside the page's withLockAsync calls on the same Mutex.
  "b.guard"() {
    const m = Mutex.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: d.spin });
    for (let n = 0; n < d.rounds; n++) {
      const held = m.guard(LIMIT_MS);
      if (Atomics.exchange(i32, B.INSECT, 1) !== 0) fail(`two threads inside the critical section (worker ${d.id})`);
      i32[B.PLAIN]++;
      Atomics.add(i32, B.ATOMIC, 1);
      if (n % 32 === 31) sleepMs(0.1);
      Atomics.store(i32, B.INSECT, 0);
      held.release();
    }
    return {};
  },
  // Holds a Mutex (word 0) and a LockCnt (word 1) until GO ≥ 1, then unlocks both, releases a
  // Semaphore permit (word 2) and sets an event (word 3), 30 ms apart.
  "b.hold"() {
    const m = Mutex.from({ buffer: d.sab, byteOffset: 0 });
    const lc = LockCnt.from({ buffer: d.sab, byteOffset: wordOffset(1) });
    const s = Semaphore.from({ buffer: d.sab, byteOffset: wordOffset(2) });
    const ev = ManualResetEvent.from({ buffer: d.sab, byteOffset: wordOffset(3) });
    m.lock();
    lc.lock();
    publish(B.PRODUCED, 1);
    awaitAtLeast(B.GO, 1);
    m.unlock();
    lc.unlock();
    sleepMs(30);
    s.release();
    sleepMs(30);
    ev.set();
    return {};
  },
  // Sets d.waiters events (words 0…n-1) one by one, in a shuffled order, 2 ms apart, after GO.
  "b.setall"() {
    const n = d.waiters ?? 0;
    const order = Array.from({ length: n }, (_, k) => k);
    for (let i = n - 1; i > 0; i--) {
      const j = (i * 7 + d.seed) % (i + 1);
      [order[i], order[j]] = [order[j], order[i]];
    }
    const events = order.map((k) => ManualResetEvent.from({ buffer: d.sab, byteOffset: wordOffset(k) }));
    awaitAtLeast(B.GO, 1);
    for (const ev of events) {
      sleepMs(2);
      ev.set();
    }
    return { order };
  },
};

runRole(roles);
