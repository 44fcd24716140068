/**
 * Worker side of the Condition and RwLock scenarios (tests/condition_rwlock_scenarios.test.ts):
 * bounded-buffer producers and consumers on a Mutex and two Conditions, and RwLock readers and
 * writers checking for torn writes. Blocking or async forms (`d.async`), plain or chaos futex,
 * Atomics or native (`d.native`); the work itself is tests/support/toolkit_work.ts.
 */

import { Condition, Mutex, RwLock } from "../../mod.ts";
import { seededRandom } from "../../testing.ts";
import { BB, RWL } from "../support/toolkit_layout.ts";
import { type Buffer, consume, consumeAsync, produce, produceAsync, rwWork, rwWorkAsync, type Shared } from "../support/toolkit_work.ts";
import { data as d, futex, type RoleFn, runRole } from "../support/worker_env.ts";

const i32 = new Int32Array(d.sab);
const random = seededRandom(d.seed);
const opts = { futex, spin: d.spin };

function buffer(): Buffer {
  return {
    i32,
    base: 0,
    m: Mutex.from({ buffer: d.sab, byteOffset: BB.MUTEX }, opts),
    notEmpty: Condition.from({ buffer: d.sab, byteOffset: BB.NOT_EMPTY }, opts),
    notFull: Condition.from({ buffer: d.sab, byteOffset: BB.NOT_FULL }, opts),
  };
}

function shared(): Shared {
  return { i32, base: 0, rw: RwLock.from({ buffer: d.sab, byteOffset: RWL.LOCK }, opts) };
}

/** Write share of the RwLock workers: d.waiters carries it in percent (default 10). */
const writeRate = (d.waiters ?? 10) / 100;

const roles: Record<string, RoleFn> = {
  "bb.producer": () => d.async ? produceAsync(buffer(), d.id, d.rounds) : produce(buffer(), d.id, d.rounds),
  "bb.consumer": () => d.async ? consumeAsync(buffer(), d.rounds) : consume(buffer(), d.rounds),
  "rw.worker": () => d.async ? rwWorkAsync(shared(), d.rounds, random, writeRate) : rwWork(shared(), d.rounds, random, writeRate),
  // One blocking waiter for the wake tests: waits once (bounded), reports whether it was notified.
  "wake.condition"() {
    const b = buffer();
    b.m.lock();
    Atomics.add(i32, BB.PRODUCED / 4, 1);
    const t0 = performance.now();
    const ok = b.notEmpty.wait(b.m, 3000); // true even when a lost wake is found at the deadline: time it
    const ms = performance.now() - t0;
    b.m.unlock();
    return { ok, ms };
  },
  "wake.writer"() {
    const s = shared();
    Atomics.add(i32, RWL.READS / 4, 1);
    const t0 = performance.now();
    const ok = s.rw.writeLock(3000);
    const ms = performance.now() - t0;
    if (ok) s.rw.writeUnlock();
    return { ok, ms };
  },
};

runRole(roles);
