/**
 * Worker side of the toolkit scenarios (tests/toolkit_scenarios.test.ts): barrier phases in
 * lockstep, a latch start gate, a Once raced by every worker, auto-reset hand-off counts. Each
 * role is written once: `d.async` picks the blocking calls or their async forms. Plain, chaos or
 * native futex (tests/support/worker_env.ts); every wait bounded or ended by the watchdog.
 */

import { AutoResetEvent, Barrier, Latch, Once } from "../../mod.ts";
import { seededRandom } from "../../testing.ts";
import {
  ARRIVED,
  AUTO,
  BARRIER,
  DATA,
  DONE,
  GIVEUPS,
  goLatch,
  LEADERS,
  onceData,
  onceDone,
  onceFailed,
  onceRuns,
  onceWord,
  PASSED,
  PHASE,
  PROGRESS,
  readyLatch,
  SETS,
  STARTED,
} from "../support/gate_layout.ts";
import { data as d, fail, futex, type RoleFn, runRole, sleepMs, yieldNow } from "../support/worker_env.ts";

const i32 = new Int32Array(d.sab);
const random = seededRandom(d.seed);
const parties = d.waiters ?? 1;
const opts = { futex, spin: d.spin };

const barrier = (): Barrier => Barrier.from({ buffer: d.sab, byteOffset: BARRIER, parties }, opts);
const arrive = (b: Barrier): ReturnType<Barrier["wait"]> | Promise<ReturnType<Barrier["wait"]>> =>
  d.async ? b.waitAsync() : b.wait();

async function maybeYield(n: number): Promise<void> {
  if (d.async && n % 64 === 63) await yieldNow();
}

const roles: Record<string, RoleFn> = {
  // Barrier phases in lockstep: in phase r every party writes PHASE[id] = r, arrives, and after
  // the barrier sees every party at r or r + 1 (none behind, none two ahead), every arrival of
  // phases 0..r counted, and exactly one leader per generation.
  async "barrier.party"() {
    const b = barrier();
    let leaders = 0;
    for (let r = 0; r < d.rounds; r++) {
      i32[PHASE + d.id] = r; // plain write: the barrier's ordering must publish it
      Atomics.add(i32, ARRIVED, 1);
      const { isLeader } = await arrive(b);
      if (isLeader) {
        leaders++;
        Atomics.add(i32, LEADERS, 1);
        Atomics.add(i32, PROGRESS, 1);
      }
      const arrived = Atomics.load(i32, ARRIVED);
      if (arrived < (r + 1) * parties) fail(`phase ${r}: released with ${arrived} arrivals, fewer than ${(r + 1) * parties}`);
      for (let k = 0; k < parties; k++) {
        const p = i32[PHASE + k];
        if (p !== r && p !== r + 1) fail(`phase ${r}: party ${k} is at phase ${p} after the barrier`);
      }
      const l = Atomics.load(i32, LEADERS); // the leader of r may not have counted itself yet
      if (l !== r && l !== r + 1) fail(`phase ${r}: ${l} leaders counted after the barrier (one per generation)`);
      await maybeYield(r);
    }
    return { leaders };
  },
  // Latch start gate: each round the waiters count a "ready" latch down, the driver waits for it,
  // publishes DATA = r with a plain write and opens the "go" latch; every waiter must see r.
  async "latch.driver"() {
    for (let r = 0; r < d.rounds; r++) {
      const ready = Latch.from({ buffer: d.sab, byteOffset: readyLatch(r) }, opts);
      const go = Latch.from({ buffer: d.sab, byteOffset: goLatch(r) }, opts);
      if (!(d.async ? await ready.waitAsync() : ready.wait())) fail("an untimed latch wait returned false");
      i32[DATA] = r;
      go.countDown();
      Atomics.add(i32, PROGRESS, 1);
      await maybeYield(r);
    }
    return {};
  },
  async "latch.waiter"() {
    let timedOut = 0;
    for (let r = 0; r < d.rounds; r++) {
      const ready = Latch.from({ buffer: d.sab, byteOffset: readyLatch(r) }, opts);
      const go = Latch.from({ buffer: d.sab, byteOffset: goLatch(r) }, opts);
      ready.countDown();
      if (r % 7 === 3) { // a short timed wait first (it may time out), then a real one
        if (!(d.async ? await go.waitAsync({ timeout: 1 }) : go.wait(1))) timedOut++;
      }
      if (!(d.async ? await go.waitAsync() : go.wait())) fail("an untimed latch wait returned false");
      if (i32[DATA] !== r) fail(`round ${r}: the gate opened but DATA holds ${i32[DATA]}`);
      if (go.count !== 0) fail(`round ${r}: released with count ${go.count}`);
      await maybeYield(r);
    }
    return { timedOut };
  },
  // Once raced by every worker, lined up by the barrier each round. fn counts its entries,
  // works a little, writes DATA with a plain write; in every 4th round the first attempt throws
  // (its caller retries). After run returns, DATA must be visible, and fn completed exactly once.
  async "once.racer"() {
    const b = barrier();
    let ran = 0;
    let threw = 0;
    for (let r = 0; r < d.rounds; r++) {
      const once = Once.from({ buffer: d.sab, byteOffset: onceWord(r) }, opts);
      await arrive(b);
      const fn = async (): Promise<void> => {
        if (Atomics.add(i32, onceRuns(r), 1) !== Atomics.load(i32, onceFailed(r))) fail(`round ${r}: fn entered while another ran or after completion`);
        if (d.async && random() < 0.5) await yieldNow();
        else sleepMs(0.02 * random());
        if (r % 4 === 3 && Atomics.compareExchange(i32, onceFailed(r), 0, 1) === 0) throw new Error("planned failure");
        i32[onceData(r)] = r + 1;
        Atomics.add(i32, onceDone(r), 1);
      };
      for (;;) {
        try {
          const mine = d.async ? await once.runAsync(fn) : once.run(() => {
            if (Atomics.add(i32, onceRuns(r), 1) !== Atomics.load(i32, onceFailed(r))) fail(`round ${r}: fn entered while another ran or after completion`);
            sleepMs(0.02 * random());
            if (r % 4 === 3 && Atomics.compareExchange(i32, onceFailed(r), 0, 1) === 0) throw new Error("planned failure");
            i32[onceData(r)] = r + 1;
            Atomics.add(i32, onceDone(r), 1);
          });
          if (mine) ran++;
          break;
        } catch (e) {
          if (!(e instanceof Error) || e.message !== "planned failure") throw e;
          threw++;
        }
      }
      if (i32[onceData(r)] !== r + 1) fail(`round ${r}: run returned before fn's write was visible (DATA ${i32[onceData(r)]})`);
      if (Atomics.load(i32, onceDone(r)) !== 1) fail(`round ${r}: fn completed ${i32[onceDone(r)]} times`);
      if (!once.isCompleted) fail(`round ${r}: not completed after run returned`);
      Atomics.add(i32, PROGRESS, 1);
    }
    return { ran, threw };
  },
  // Auto-reset hand-off: waiters pass `rounds` times each; each pass must be covered by a set
  // that returned true (SETS is raised before the set, lowered again if the set changed nothing).
  async "auto.waiter"() {
    const ev = AutoResetEvent.from({ buffer: d.sab, byteOffset: AUTO }, opts);
    let gaveUp = 0;
    for (let n = 0; n < d.rounds; n++) {
      if (n % 5 === 1) { // give up quickly first: a give-up must take no set, or pass it on
        const ok = d.async ? await ev.waitAsync({ timeout: 1 }) : ev.wait(1);
        if (!ok) {
          gaveUp++;
          Atomics.add(i32, GIVEUPS, 1);
          if (!(d.async ? await ev.waitAsync() : ev.wait())) fail("an untimed wait returned false");
        }
      } else if (d.async && n % 5 === 2) {
        try {
          await ev.waitAsync({ signal: AbortSignal.timeout(1) });
        } catch {
          gaveUp++;
          Atomics.add(i32, GIVEUPS, 1);
          await ev.waitAsync();
        }
      } else if (!(d.async ? await ev.waitAsync() : ev.wait())) {
        fail("an untimed wait returned false");
      }
      const passed = Atomics.add(i32, PASSED, 1) + 1;
      if (passed === parties * d.rounds) Atomics.store(i32, DONE, 1); // the last pass stops the setters
      const sets = Atomics.load(i32, SETS);
      if (passed > sets) fail(`${passed} passes but only ${sets} effective sets: a set released two waiters`);
      Atomics.add(i32, PROGRESS, 1);
      await maybeYield(n);
    }
    return { gaveUp };
  },
  async "auto.setter"() {
    const ev = AutoResetEvent.from({ buffer: d.sab, byteOffset: AUTO }, opts);
    let sets = 0;
    let noops = 0;
    while (Atomics.load(i32, DONE) === 0) {
      Atomics.add(i32, SETS, 1);
      if (ev.set()) sets++;
      else {
        Atomics.sub(i32, SETS, 1);
        noops++;
        if (d.async) await yieldNow();
        else sleepMs(0.02);
      }
      if (random() < 0.01) sleepMs(0.2); // let waiters fall asleep
    }
    return { sets, noops };
  },
};

// The start line: every worker has started (and bound its futex) before any role waits, so a
// native wait slice that expires unwoken is a lost wakeup, not a slow worker start.
const workers = (d as unknown as { workers: number }).workers;
Atomics.add(i32, STARTED, 1);
while (Atomics.load(i32, STARTED) < workers) Atomics.wait(i32, STARTED, Atomics.load(i32, STARTED), 5);

runRole(roles);
