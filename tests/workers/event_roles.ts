/**
 * Worker side of the event scenarios S1–S7 (docs/testing.md). Each worker plays one role,
 * attaches to the events by handle, uses the plain or the chaos futex, and posts
 * { ok, ...stats } or { ok: false, error }. Every wait has a finite limit.
 */

import { ManualResetEvent } from "../../mod.ts";
import {
  DATA,
  DONE,
  ENTERED,
  eventOffset,
  FLAG,
  GO,
  JOB,
  PASSED,
  PING,
  PONG,
  RETURNED,
  ROUND,
  STAMP,
  STOP,
  WAIT_LIMIT_MS,
} from "../support/event_layout.ts";
import { data as d, fail, futex, type RoleFn, runRole, sleepMs, yieldNow } from "../support/worker_env.ts";

const i32 = new Int32Array(d.sab);
const waiters = d.waiters ?? 0;

function ev(i: number): ManualResetEvent {
  return ManualResetEvent.from({ buffer: d.sab, byteOffset: eventOffset(i) }, { futex, spin: d.spin });
}

function mustWait(e: ManualResetEvent, what: string): void {
  if (!e.wait(WAIT_LIMIT_MS)) fail(`${what}: event wait timed out after ${WAIT_LIMIT_MS} ms (lost wakeup?)`);
}

/** Harness wait: block while slot `idx` still holds what we saw, until it reaches `target`. */
function awaitAtLeast(idx: number, target: number, limitMs = WAIT_LIMIT_MS): void {
  const end = performance.now() + limitMs;
  for (;;) {
    const v = Atomics.load(i32, idx);
    if (v >= target) return;
    const left = end - performance.now();
    if (left <= 0) fail(`harness: slot ${idx} stuck at ${v}, wanted ${target}`);
    Atomics.wait(i32, idx, v, left);
  }
}

function bump(idx: number): void {
  Atomics.add(i32, idx, 1);
  Atomics.notify(i32, idx);
}

function publish(idx: number, v: number): void {
  Atomics.store(i32, idx, v);
  Atomics.notify(i32, idx);
}

async function mustWaitAsync(e: ManualResetEvent, what: string): Promise<void> {
  if (!(await e.waitAsync({ timeout: WAIT_LIMIT_MS }))) fail(`${what}: event waitAsync timed out after ${WAIT_LIMIT_MS} ms (lost wakeup?)`);
}

/**
 * The waiting roles (S1's driver, S3, S4 and S7's waiters) are written once: async workers
 * (`d.async`) wait with waitAsync on their event loop, the others block in wait (awaiting its
 * plain result costs a microtask and changes nothing else).
 */
function waitOn(e: ManualResetEvent, what: string): void | Promise<void> {
  return d.async ? mustWaitAsync(e, `${what} (async)`) : mustWait(e, what);
}

const roles: Record<string, RoleFn> = {
  // S1: main posts a job to remote i and waits on one shared event; the job's plain write must be visible.
  async "s1.driver"() {
    const done = ev(0);
    for (let r = 1; r <= d.rounds; r++) {
      for (let i = 0; i < waiters; i++) {
        done.reset();
        publish(JOB + i, r);
        await waitOn(done, `S1 round ${r} remote ${i}`);
        const seen = i32[DATA + i]; // plain read: visibility comes from the event
        if (seen !== r * 3 + i) fail(`S1 round ${r} remote ${i}: saw data ${seen}, want ${r * 3 + i}`);
      }
      if (d.async && r % 16 === 0) await yieldNow();
    }
    Atomics.store(i32, 0, 0x7777); // "destroy" the event word right after the last wait
    for (let i = 0; i < waiters; i++) publish(JOB + i, -1);
    return {};
  },
  "s1.remote"() {
    const done = ev(0);
    const i = d.id;
    let seen = 0;
    for (;;) {
      const end = performance.now() + 4 * WAIT_LIMIT_MS;
      while (Atomics.load(i32, JOB + i) === seen) {
        if (performance.now() > end) fail(`S1 remote ${i}: no job after ${seen}`);
        Atomics.wait(i32, JOB + i, seen, 100);
      }
      const job = Atomics.load(i32, JOB + i);
      if (job === -1) return {};
      i32[DATA + i] = job * 3 + i; // plain write, published by set()
      done.set();
      seen = job;
    }
  },
  // S2: ping-pong on two events.
  "s2.ping"() {
    const a = ev(0), b = ev(1);
    const t0 = performance.now();
    for (let r = 1; r <= d.rounds; r++) {
      b.reset();
      i32[PING] = r;
      a.set();
      mustWait(b, `S2 ping round ${r}`);
      if (i32[PONG] !== r) fail(`S2 ping round ${r}: pong wrote ${i32[PONG]}`);
    }
    return { nsPerRoundTrip: ((performance.now() - t0) * 1e6) / d.rounds };
  },
  "s2.pong"() {
    const a = ev(0), b = ev(1);
    for (let r = 1; r <= d.rounds; r++) {
      mustWait(a, `S2 pong round ${r}`);
      a.reset();
      if (i32[PING] !== r) fail(`S2 pong round ${r}: ping wrote ${i32[PING]}`);
      i32[PONG] = r;
      b.set();
    }
    return {};
  },
  // S3: broadcast to N waiters on two alternating events.
  "s3.driver"() {
    const e = [ev(0), ev(1)];
    for (let r = 0; r < d.rounds; r++) {
      awaitAtLeast(PASSED, waiters * r);
      e[(r + 1) % 2].reset();
      Atomics.store(i32, ROUND, r);
      e[r % 2].set();
    }
    awaitAtLeast(PASSED, waiters * d.rounds);
    return { passed: Atomics.load(i32, PASSED) };
  },
  async "s3.waiter"() {
    const e = [ev(0), ev(1)];
    for (let r = 0; r < d.rounds; r++) {
      await waitOn(e[r % 2], `S3 waiter ${d.id} round ${r}`);
      const round = Atomics.load(i32, ROUND);
      if (round !== r) fail(`S3 waiter ${d.id}: passed round ${r} while the driver is at ${round}`);
      bump(PASSED);
    }
    return {};
  },
  // S4: reset while BUSY must keep BUSY; the set then releases every sleeper within 400 ms.
  "s4.driver"() {
    const e = ev(0);
    const word = new Int32Array(d.sab, eventOffset(0), 1);
    let worstMs = 0;
    for (let r = 1; r <= d.rounds; r++) {
      e.reset();
      publish(ROUND, r);
      const end = performance.now() + WAIT_LIMIT_MS;
      while (Atomics.load(i32, ENTERED) < waiters * r || Atomics.load(word, 0) !== -1) {
        if (performance.now() > end) fail(`S4 round ${r}: waiters never made the event BUSY (word ${word[0]})`);
        sleepMs(1);
      }
      sleepMs(2); // let them fall asleep
      e.reset();
      const after = Atomics.load(word, 0);
      if (after !== -1) fail(`S4 round ${r}: reset turned BUSY into ${after}`);
      const t0 = performance.now();
      e.set();
      awaitAtLeast(RETURNED, waiters * r, 400);
      worstMs = Math.max(worstMs, performance.now() - t0);
    }
    return { worstMs };
  },
  async "s4.waiter"() {
    const e = ev(0);
    for (let r = 1; r <= d.rounds; r++) {
      awaitAtLeast(ROUND, r);
      Atomics.add(i32, ENTERED, 1);
      await waitOn(e, `S4 waiter ${d.id} round ${r}`);
      bump(RETURNED);
    }
    return {};
  },
  // S5: a notify storm on the event word must not end waits early.
  "s5.storm"() {
    const word = new Int32Array(d.sab, eventOffset(0), 1);
    let n = 0;
    while (Atomics.load(i32, STOP) === 0) {
      Atomics.notify(word, 0);
      if ((++n & 1023) === 0) sleepMs(0.05);
    }
    return { notifies: n };
  },
  "s5.waiter"() {
    const e = ev(0);
    const word = new Int32Array(d.sab, eventOffset(0), 1);
    try {
      for (let i = 1; i <= d.rounds; i++) { // (a) timed wait nobody sets
        e.reset();
        const t0 = performance.now();
        const got = e.wait(20);
        const ms = performance.now() - t0;
        if (got) fail(`S5a round ${i}: a wait nobody set returned true`);
        if (ms < 19) fail(`S5a round ${i}: a 20 ms wait returned after ${ms.toFixed(2)} ms`);
        if (Atomics.load(word, 0) !== -1) fail(`S5a round ${i}: word ${word[0]} after timed wait, want BUSY -1`);
      }
      for (let i = 1; i <= d.rounds; i++) { // (b) untimed wait, set 5 ms later
        e.reset();
        publish(GO, i);
        mustWait(e, `S5b round ${i}`);
        if (i32[FLAG] !== i) fail(`S5b round ${i}: wait returned before the setter's flag (${i32[FLAG]})`);
      }
    } finally {
      publish(STOP, 1);
    }
    return {};
  },
  "s5.setter"() {
    const e = ev(0);
    for (let i = 1; i <= d.rounds; i++) {
      awaitAtLeast(GO, i, 4 * WAIT_LIMIT_MS);
      sleepMs(5);
      i32[FLAG] = i;
      e.set();
    }
    return {};
  },
  // S6: the waiter re-creates the event on the same word every round and reuses the word right after wait.
  "s6.waiter"() {
    let reused = 0;
    for (let r = 1; r <= d.rounds; r++) {
      const e = new ManualResetEvent({ buffer: d.sab, byteOffset: eventOffset(0), futex, spin: d.spin });
      publish(ROUND, r);
      mustWait(e, `S6 round ${r}`);
      if (i32[STAMP] !== r) fail(`S6 round ${r}: stamp ${i32[STAMP]} not visible after wait`);
      if (r % 2 === 0) { // reuse the word for another protocol at once: a counter
        const w = new Int32Array(d.sab, eventOffset(0), 1);
        Atomics.store(w, 0, 0x100);
        Atomics.add(w, 0, 5);
        if (Atomics.load(w, 0) !== 0x105) fail(`S6 round ${r}: reused word changed under us (${w[0]})`);
        reused++;
      }
    }
    return { reused };
  },
  "s6.setter"() {
    const e = ev(0);
    for (let r = 1; r <= d.rounds; r++) {
      awaitAtLeast(ROUND, r);
      i32[STAMP] = r;
      e.set();
    }
    return {};
  },
  // S7: the Dekker idiom — publish; while !done { reset; if !done wait } — must never lose a wakeup.
  async "s7.waiter"() {
    const e = ev(0);
    let waits = 0;
    for (let r = 1; r <= d.rounds; r++) {
      publish(GO, r);
      while (Atomics.load(i32, DONE) !== r) {
        e.reset();
        if (Atomics.load(i32, DONE) !== r) {
          await waitOn(e, `S7 round ${r}`);
          waits++;
        }
      }
      if (d.async && r % 64 === 0) await yieldNow();
    }
    return { waits };
  },
  "s7.setter"() {
    const e = ev(0);
    for (let r = 1; r <= d.rounds; r++) {
      awaitAtLeast(GO, r);
      Atomics.store(i32, DONE, r);
      e.set();
    }
    return {};
  },
};

runRole(roles);
