/**
 * Worker side of the lock scenarios: S9 (MCS lock on the raw Futex contract), S10 (LockCnt
 * random-op stress), S11 (LockCnt blocking cases), S13 (semaphore producers/consumers) and the
 * mutex counter stress. Plain or chaos futex; every wait bounded (or ended by the watchdog).
 */

import { LockCnt, Mutex, Semaphore } from "../../mod.ts";
import { seededRandom } from "../../testing.ts";
import { L } from "../support/lock_layout.ts";
import { data as d, fail, futex, type RoleFn, runRole, sleepMs, yieldNow } from "../support/worker_env.ts";

const i32 = new Int32Array(d.sab);
const random = seededRandom(d.seed);
const LIMIT_MS = 10_000;


/** Enter a critical section: no one else may be inside; bump both counters; long every 32nd. */
function section(n: number): void {
  if (Atomics.exchange(i32, L.INSECT, 1) !== 0) fail(`two threads inside the critical section (worker ${d.id})`);
  i32[L.PLAIN]++; // plain read-modify-write: only mutual exclusion keeps it exact
  Atomics.add(i32, L.ATOMIC, 1);
  if (n % 32 === 31) sleepMs(0.1); // a long section, so contenders really sleep
  Atomics.store(i32, L.INSECT, 0);
}

function freeAndReallocate(lc: LockCnt): void {
  if (lc.count !== 0) fail(`freeing while ${lc.count} visits are in progress`);
  Atomics.store(i32, L.VALID, 0);
  Atomics.add(i32, L.FREES, 1);
  Atomics.store(i32, L.VALID, 1);
}

function visit(): void {
  if (Atomics.load(i32, L.VALID) !== 1) fail(`a visitor saw the object freed (worker ${d.id})`);
}

/** Async workers yield to their event loop every so often (other async work interleaves). */
async function maybeYield(n: number): Promise<void> {
  if (n % 64 === 63) await yieldNow();
}

/**
 * S9, S10 and S11 are written once: `d.async` picks the blocking calls or their async forms
 * (awaiting a blocking call's plain result costs a microtask and changes nothing else).
 */
const sharedRoles: Record<string, RoleFn> = {
  // S9: QEMU's MCS lock from test-aio-multithread, written on the raw Futex contract.
  async "s9.worker"() {
    const wait = d.async
      ? (i: number, v: number, ms: number) => futex.waitAsync(i32, i, v, ms)
      : (i: number, v: number, ms: number) => futex.wait(i32, i, v, ms);
    const me = L.NODES + 16 * d.id;
    for (let n = 0; n < d.rounds; n++) {
      Atomics.store(i32, me, -1); // next
      Atomics.store(i32, me + 1, 1); // locked
      const prev = Atomics.exchange(i32, L.HEAD, d.id);
      if (prev !== -1) {
        Atomics.store(i32, L.NODES + 16 * prev, d.id);
        const end = performance.now() + LIMIT_MS;
        while (Atomics.load(i32, me + 1) === 1) { // re-check after every return: wakes may be spurious
          if (performance.now() > end) fail(`S9 worker ${d.id} never got the lock`);
          await wait(me + 1, 1, 100);
        }
      }
      i32[L.PLAIN]++;
      Atomics.add(i32, L.ATOMIC, 1);
      // unlock
      let handedOn = true;
      if (Atomics.load(i32, me) === -1) {
        if (Atomics.load(i32, L.HEAD) === d.id && Atomics.compareExchange(i32, L.HEAD, d.id, -1) === d.id) handedOn = false;
        else {
          let spins = 0;
          while (Atomics.load(i32, me) === -1) if (++spins % 1000 === 0) sleepMs(0.01); // successor is linking in
        }
      }
      if (handedOn) {
        const nextLocked = L.NODES + 16 * Atomics.load(i32, me) + 1;
        Atomics.store(i32, nextLocked, 0);
        futex.wakeOne(i32, nextLocked);
      }
      if (d.async) await maybeYield(n);
    }
    return {};
  },
  // S10: LockCnt mutual exclusion and free safety, four random op kinds.
  async "s10.worker"() {
    const lc = LockCnt.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: d.spin });
    const op$ = lockCntOps(lc);
    let sections = 0;
    const ops = [0, 0, 0, 0];
    for (let n = 0; n < d.rounds; n++) {
      const op = Math.floor(random() * 4);
      ops[op]++;
      if ((n & 63) === 0) Atomics.add(i32, L.OPS, 1);
      if (op === 0) { // (a) lock; section; free if idle; unlock
        await op$.lock();
        section(sections++);
        if (lc.count === 0) freeAndReallocate(lc);
        lc.unlock();
      } else if (op === 1) { // (b) inc; visit; dec
        await op$.inc();
        visit();
        lc.dec();
      } else if (op === 2) { // (c) inc; visit; free right after the last visit
        await op$.inc();
        visit();
        if (await op$.decAndLock()) {
          section(sections++);
          freeAndReallocate(lc);
          lc.unlock();
        }
      } else { // (d) inc; visit; in-walk deletion
        await op$.inc();
        visit();
        if (await op$.decIfLock()) {
          section(sections++);
          freeAndReallocate(lc);
          lc.incAndUnlock();
        }
        visit();
        lc.dec();
      }
      if (d.async) await maybeYield(n);
    }
    return { sections, ops };
  },
  // S11: a blocked inc / lock in a worker, driven by the main thread.
  async "s11.inc"() {
    const lc = LockCnt.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: d.spin });
    Atomics.add(i32, L.PRODUCED, 1); // "about to block"
    Atomics.notify(i32, L.PRODUCED);
    if (!(await lockCntOps(lc).inc())) fail("an untimed inc returned false");
    Atomics.add(i32, L.CONSUMED, 1); // "passed"
    return { word: Atomics.load(i32, 0) };
  },
  async "s11.locker"() {
    const lc = LockCnt.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: d.spin });
    Atomics.add(i32, L.PRODUCED, 1);
    await lockCntOps(lc).lock();
    section(0);
    lc.unlock();
    Atomics.add(i32, L.CONSUMED, 1);
    return {};
  },
};

/** The LockCnt calls a worker waits in: blocking, or (async workers) their async forms. */
function lockCntOps(lc: LockCnt): Record<"lock" | "inc" | "decAndLock" | "decIfLock", () => boolean | Promise<boolean>> {
  return d.async
    ? { lock: () => lc.lockAsync(), inc: () => lc.incAsync(), decAndLock: () => lc.decAndLockAsync(), decIfLock: () => lc.decIfLockAsync() }
    : { lock: () => lc.lock(), inc: () => lc.inc(), decAndLock: () => lc.decAndLock(), decIfLock: () => lc.decIfLock() };
}

/** The async forms of the roles below: same work, same checks, awaiting instead of blocking. */
const asyncRoles: Record<string, RoleFn> = {
  // S9 on the raw contract's waitAsync.
  async "mutex.worker"() {
    const m = Mutex.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: d.spin });
    let timed = 0;
    let gaveUp = 0;
    for (let n = 0; n < d.rounds; n++) {
      const r = random();
      if (r < 0.1) {
        if (!m.tryLock()) continue;
      } else if (r < 0.2) {
        if (!(await m.lockAsync({ timeout: LIMIT_MS }))) fail(`mutex async worker ${d.id}: lockAsync timed out`);
        timed++;
      } else if (r < 0.3) { // give up quickly (timeout), then wait for real: give-ups must pass their baton
        if (!(await m.lockAsync({ timeout: 1 }))) {
          gaveUp++;
          await m.lockAsync();
        }
      } else if (r < 0.4) { // give up by abort, then wait for real
        try {
          await m.lockAsync({ signal: AbortSignal.timeout(1) });
        } catch {
          gaveUp++;
          await m.lockAsync();
        }
      } else {
        await m.lockAsync();
      }
      section(n);
      m.unlock();
      await maybeYield(n);
    }
    return { timed, gaveUp };
  },
  async "wake.semaphore"() {
    const s = Semaphore.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: 0 });
    Atomics.add(i32, L.PRODUCED, 1);
    await s.acquireAsync();
    return {};
  },
  async "wake.semaphore2"() {
    const s = Semaphore.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: 0 });
    Atomics.add(i32, L.PRODUCED, 1);
    await s.acquireAsync();
    Atomics.add(i32, L.CONSUMED, 1);
    return {};
  },
  async "wake.mutex"() {
    const m = Mutex.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: 0 });
    Atomics.add(i32, L.PRODUCED, 1);
    await m.lockAsync();
    m.unlock();
    return {};
  },
  async "s13.producer"() {
    const s = Semaphore.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: d.spin });
    for (let n = 0; n < d.rounds; n++) {
      Atomics.add(i32, L.PRODUCED, 1);
      s.release();
      if ((n & 255) === 255) await new Promise((r) => setTimeout(r, 0)); // let consumers drain
    }
    return {};
  },
  async "s13.consumer"() {
    const s = Semaphore.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: d.spin });
    let got = 0;
    for (let n = 0; n < d.rounds; n++) {
      // Untimed in the end: a lost wakeup must hang (and trip the stall watchdog), not recover at
      // a timeout. Every 5th first gives up quickly (timeout or abort), which must pass its baton.
      if (n % 3 === 0 && s.tryAcquire()) {
        // took one without waiting
      } else if (n % 5 === 1) {
        if (!(await s.acquireAsync({ timeout: 1 }))) await s.acquireAsync();
      } else if (n % 5 === 2) {
        try {
          await s.acquireAsync({ signal: AbortSignal.timeout(1) });
        } catch {
          await s.acquireAsync();
        }
      } else {
        await s.acquireAsync();
      }
      const consumed = Atomics.add(i32, L.CONSUMED, 1) + 1;
      if (consumed > Atomics.load(i32, L.PRODUCED)) fail(`S13: ${consumed} permits consumed but only ${i32[L.PRODUCED]} produced`);
      got++;
      await maybeYield(n);
    }
    return { got };
  },
};

const roles: Record<string, RoleFn> = {
  // S9: QEMU's MCS lock from test-aio-multithread, written on the raw Futex contract.
  "mutex.worker"() {
    const m = Mutex.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: d.spin });
    let timed = 0;
    for (let n = 0; n < d.rounds; n++) {
      const r = random();
      if (r < 0.1) {
        if (!m.tryLock()) continue;
      } else if (r < 0.2) {
        if (!m.lock(LIMIT_MS)) fail(`mutex worker ${d.id}: lock(${LIMIT_MS}) timed out`);
        timed++;
      } else if (r < 0.3) { // give up quickly, then wait for real: a give-up must pass its baton
        if (!m.lock(1)) m.lock();
      } else {
        m.lock();
      }
      section(n);
      m.unlock();
    }
    return { timed };
  },
  // S10: LockCnt mutual exclusion and free safety, four random op kinds.
  "wake.semaphore"() {
    const s = Semaphore.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: 0 });
    Atomics.add(i32, L.PRODUCED, 1);
    s.acquire();
    return {};
  },
  "wake.semaphore2"() { // two sleepers, then two releases back to back: both must wake
    const s = Semaphore.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: 0 });
    Atomics.add(i32, L.PRODUCED, 1);
    s.acquire();
    Atomics.add(i32, L.CONSUMED, 1);
    return {};
  },
  "wake.mutex"() {
    const m = Mutex.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: 0 });
    Atomics.add(i32, L.PRODUCED, 1);
    m.lock();
    m.unlock();
    return {};
  },
  // S13: producers release permits one at a time; consumers acquire them with a bounded wait.
  "s13.producer"() {
    const s = Semaphore.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: d.spin });
    for (let n = 0; n < d.rounds; n++) {
      Atomics.add(i32, L.PRODUCED, 1);
      s.release();
      if ((n & 255) === 255) sleepMs(0.05); // let consumers drain, so some of them sleep
    }
    return {};
  },
  "s13.consumer"() {
    const s = Semaphore.from({ buffer: d.sab, byteOffset: 0 }, { futex, spin: d.spin });
    let got = 0;
    for (let n = 0; n < d.rounds; n++) {
      // Untimed: a lost wakeup must hang (and trip the stall watchdog), not recover at a timeout.
      if (n % 3 === 0 && s.tryAcquire()) {
        // took one without waiting
      } else if (n % 5 === 1) {
        if (!s.acquire(1)) s.acquire(); // give up quickly, then wait for real
      } else {
        s.acquire();
      }
      const consumed = Atomics.add(i32, L.CONSUMED, 1) + 1;
      if (consumed > Atomics.load(i32, L.PRODUCED)) fail(`S13: ${consumed} permits consumed but only ${i32[L.PRODUCED]} produced`);
      got++;
    }
    return { got };
  },
};

runRole({ ...roles, ...sharedRoles, ...(d.async ? asyncRoles : {}) });
