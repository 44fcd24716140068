/**
 * The give-up baton, set up exactly. A waiter that slept may have consumed the one wake an
 * unlock or release sent; when it leaves without success (timeout, abort) it must pass that wake
 * on unless the word already guarantees the next release wakes. The cases a careful reviewer
 * gets wrong are the ones where the word has *moved* between the wake and the give-up: a
 * fast-path locker took the freed lock (its unlock will not wake), a second release added a
 * permit without a wake, another woken acquirer re-marked WAITERS over remaining permits.
 *
 * Each case: a foreign holder, two sleepers A (first in line) and B, the holder's release (its
 * one wake goes to A), then — in the window between A's wake and A's give-up — the word moved as
 * another thread's fast path would move it, then A gives up. B must then return promptly, long
 * before its own deadline (a stranded B recovers only there). Paths:
 *   - aborted (async): the futex wrapper aborts A's signal right after its wait returned "ok"
 *     and after the move, so the driver goes from the wake straight to giveUp();
 *   - timed (async): A's deadline passes inside the window, so the driver steps once more (and
 *     may re-mark) before it gives up;
 *   - timed (blocking): the same through runBlocking, with a scripted futex playing the other
 *     threads (a blocking A cannot share its thread with a real B); B is then virtual, and the
 *     check is that B is owed a wake — one was sent, or the word is marked so that the next
 *     release sends it.
 * On the Atomics futex and under chaos; not on the native futex, where the case cannot be set up
 * (see the worker-B tests below for why, and where the native side's own baton is tested).
 *
 * Also here: a thread that blocks after one of its async waits was aborted (the pending-async
 * count must drop on every exit, or every later blocking wait of that thread on the word is
 * refused as a deadlock).
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  atomicsFutex,
  type Futex,
  LockCnt,
  LOCKCNT_LOCKED,
  LOCKCNT_WAITING,
  Mutex,
  MUTEX_CONTENDED,
  MUTEX_LOCKED,
  RW_WRITE_LOCKED,
  RW_WRITERS_WAITING,
  RwLock,
  Semaphore,
  SEMAPHORE_WAITERS,
  type WaitResult,
} from "../mod.ts";
import { chaosFutex } from "../testing.ts";
import { Worker } from "node:worker_threads";
import { seedBase, testScript, tick, until } from "./support/runtime.ts";
import { scriptedFutex } from "./support/scripted_futex.ts";
import { wordView } from "./support/words.ts";


/** B's own deadline: a B stranded by a lost baton returns only here. */
const B_TIMEOUT_MS = 4000;
/** B must be done this long after the last foreign step at the latest. */
const PROMPT_MS = 1500;


type Mode = "aborted" | "timed";

/**
 * Wraps `inner`: once armed, the async wait made with `signal` that returns "ok" (its wake) runs
 * `between()` (the word moved by other threads) and then either aborts `ac` (mode "aborted") or
 * lets A's deadline pass before returning (mode "timed"). Every other call goes to `inner`.
 */
function windowAfterWake(inner: Futex, ac: AbortController, mode: Mode) {
  let between: (() => void) | undefined;
  const futex: Futex = {
    name: `window-after-wake(${inner.name})`,
    domain: inner.domain,
    crossProcess: inner.crossProcess,
    requiresSharedArrayBuffer: inner.requiresSharedArrayBuffer,
    wait: (v, i, e, t) => inner.wait(v, i, e, t),
    wakeOne: (v, i) => inner.wakeOne(v, i),
    wakeAll: (v, i) => inner.wakeAll(v, i),
    waitAsync(view, index, expected, timeoutMs, signal): Promise<WaitResult> {
      const mine = signal === ac.signal;
      const deadline = performance.now() + (timeoutMs ?? 0);
      return inner.waitAsync(view, index, expected, timeoutMs, signal).then((r) => {
        if (!mine || r !== "ok" || between === undefined) return r;
        const run = between;
        between = undefined;
        run();
        if (mode === "aborted") ac.abort(new Error("A gives up right after its wake"));
        else while (performance.now() <= deadline + 2); // A's deadline passes while it holds the wake
        return r;
      });
    },
  };
  return { futex, arm: (fn: () => void) => void (between = fn) };
}

/** One primitive's baton case, built on a futex. */
interface Case {
  /** A foreign holder holds it; A and B are to sleep. */
  a(opts: { signal?: AbortSignal; timeout?: number }): Promise<boolean>;
  b(): Promise<boolean>;
  /** Both A and B announced themselves asleep (the word shows it; for a Mutex, 2 shows either). */
  asleep(): boolean;
  /** A announced itself asleep. */
  asleepA(): boolean;
  /** The primitive's handle, for a B in a worker. */
  handle: unknown;
  /** The word is idle again (after B's release). */
  idle(): void;
  /** The holder's release: its one wake reaches A, first in line. */
  release(): void;
  /** What other threads' fast paths do in the window between A's wake and A's give-up. */
  between(): void;
  /** After A left: the foreign fast-path holder (if any) lets go, as its protocol does. */
  finish(): void;
  /** A got it after all (timed mode: its last step found it free): A's own release. */
  undoA(): void;
  /** B got it: its release, then the word must be idle. */
  undoB(): void;
}

/** What the Mutex and the LockCnt share here: lock(), lockAsync(), unlock(), a handle. */
interface Lock {
  readonly handle: { buffer: ArrayBuffer | SharedArrayBuffer; byteOffset: number };
  lock(timeoutMs?: number): boolean;
  lockAsync(o: { signal?: AbortSignal; timeout?: number }): Promise<boolean>;
  unlock(): void;
}

/**
 * A lock's case: `holder` (this thread, standing for the foreign holder) holds it; A and B are
 * attached instances; `announced(word)` tells both sleep; `fastLock` is the fast-path locker.
 */
function lockCase<L extends Lock>(holder: L, attach: (h: L["handle"]) => L, announced: (w: number) => boolean, fastLock: (x: L) => boolean): Case {
  const [a, b] = [attach(holder.handle), attach(holder.handle)];
  const w = wordView(holder.handle);
  const idle = () => assert.equal(Atomics.load(w, 0), 0);
  holder.lock();
  return {
    a: (o) => a.lockAsync(o),
    b: () => b.lockAsync({ timeout: B_TIMEOUT_MS }),
    asleep: () => announced(Atomics.load(w, 0)),
    asleepA: () => announced(Atomics.load(w, 0)),
    handle: holder.handle,
    idle,
    release: () => holder.unlock(), // its one wake: A
    between: () => assert.equal(fastLock(holder), true, "the fast-path locker takes the freed lock"),
    finish: () => holder.unlock(),
    undoA: () => a.unlock(),
    undoB: () => {
      b.unlock();
      idle();
    },
  };
}

const cases: Record<string, (f: Futex) => Case> = {
  // The fast-path locker takes the freed word as 1 (LOCKED): its unlock will not wake. A give-up
  // that passes the wake only on a 0 word strands B.
  Mutex: (f) => lockCase(new Mutex({ futex: f, spin: 0 }), (h) => Mutex.from(h, { futex: f }), (w) => w === MUTEX_CONTENDED, (x) => x.tryLock()),
  // The release clears WAITERS; a second release (no WAITERS: wakes nobody) adds a permit; a third
  // acquirer, back from a spurious return, takes one and re-marks WAITERS (it slept: others may).
  // The word is WAITERS|1: a permit for B, and no release will wake anyone for it. A give-up
  // that passes the wake only while WAITERS is clear strands B.
  Semaphore(f) {
    const s = new Semaphore(0, { futex: f });
    const [a, b] = [Semaphore.from(s.handle, { futex: f }), Semaphore.from(s.handle, { futex: f })];
    const w = wordView(s.handle);
    return {
      a: (o) => a.acquireAsync(o),
      b: () => b.acquireAsync({ timeout: B_TIMEOUT_MS }),
      asleep: () => Atomics.load(w, 0) === SEMAPHORE_WAITERS,
      asleepA: () => Atomics.load(w, 0) === SEMAPHORE_WAITERS,
      handle: s.handle,
      idle: () => assert.equal(s.value, 0),
      release: () => s.release(), // WAITERS|0 → 1, wakes one: A
      between: () => {
        s.release(); // 1 → 2: no WAITERS, no wake
        assert.equal(Atomics.compareExchange(w, 0, 2, 1 | SEMAPHORE_WAITERS), 2, "the third acquirer takes one, re-marking");
      },
      finish: () => {},
      undoA: () => s.release(),
      undoB: () => assert.equal(s.value, 0),
    };
  },
  // The unlock frees WAITING → FREE and wakes A; a fast-path lock() takes FREE → LOCKED, whose
  // unlock will not wake. A give-up that passes the wake only on FREE lock bits strands B.
  LockCnt: (f) => lockCase(new LockCnt({ futex: f, spin: 0 }), (h) => LockCnt.from(h, { futex: f }), (w) => (w & 3) === LOCKCNT_WAITING, (x) => x.lock(0)),
  // Two writers asleep behind a writer; its unlock clears WRITERS_WAITING and wakes one writer (A);
  // a fast-path reader takes the free lock (no waiting bit: its read unlock will not wake). A
  // writer's give-up that passes the wake only while the lock is free strands B.
  RwLock(f) {
    const holder = new RwLock({ futex: f, spin: 0 });
    const [a, b] = [RwLock.from(holder.handle, { futex: f }), RwLock.from(holder.handle, { futex: f })];
    const state = wordView(holder.handle);
    holder.writeLock();
    return {
      a: (o) => a.writeLockAsync(o),
      b: () => b.writeLockAsync({ timeout: B_TIMEOUT_MS }),
      asleep: () => Atomics.load(state, 0) === (RW_WRITE_LOCKED | RW_WRITERS_WAITING),
      asleepA: () => Atomics.load(state, 0) === (RW_WRITE_LOCKED | RW_WRITERS_WAITING),
      handle: holder.handle,
      idle: () => assert.equal(Atomics.load(state, 0), 0),
      release: () => holder.writeUnlock(),
      between: () => assert.equal(holder.tryRead(), true, "the fast-path reader takes the freed lock"),
      finish: () => holder.readUnlock(),
      undoA: () => a.writeUnlock(),
      undoB: () => {
        b.writeUnlock();
        assert.equal(Atomics.load(state, 0), 0);
      },
    };
  },
};

/** The holder's release (its wake: A), A's exit (rejected: aborted; or its timed result), then the fast-path holder lets go. */
async function releaseAndLeave(c: Case, mode: Mode, pa: Promise<boolean>): Promise<void> {
  c.release();
  let aGot = false;
  if (mode === "aborted") await assert.rejects(pa, /A gives up right after its wake/);
  else aGot = await pa;
  if (aGot) c.undoA();
  await tick(20);
  c.finish();
}

const futexes: [string, () => Futex][] = [
  ["atomics", () => atomicsFutex],
  ["chaos", () => chaosFutex(atomicsFutex, { seed: 7 + seedBase, spuriousRate: 0 })],
];

for (const [kind, make] of Object.entries(cases)) {
  for (const mode of ["aborted", "timed"] as const) {
    for (const [fname, inner] of futexes) {
      const name = `give-up baton, ${kind}, async ${mode}, ${fname} futex: the word moved between A's wake and its give-up, B returns promptly`;
      test(name, { timeout: 30_000 }, async () => {
        const ac = new AbortController();
        const { futex, arm } = windowAfterWake(inner(), ac, mode);
        const c = cases[kind](futex);
        const pa = c.a(mode === "aborted" ? { signal: ac.signal } : { signal: ac.signal, timeout: 300 });
        const pb = c.b();
        await until("both waiters announced", c.asleep);
        await tick(30); // and asleep in the futex, A first
        arm(() => c.between());
        const t0 = performance.now();
        await releaseAndLeave(c, mode, pa);
        const bGot = await pb;
        const ms = performance.now() - t0;
        assert.equal(bGot, true, "B timed out");
        assert.ok(ms < PROMPT_MS, `B returned after ${ms.toFixed(0)} ms: stranded until its deadline (${B_TIMEOUT_MS} ms) by A's give-up`);
        c.undoB();
      });
    }
  }
}

// B blocking in a worker (spin 0): the holder's one wake still goes to A, first in the engine's
// queue, and B is a real blocking sleeper.
//
// Not on the native futex: there the case cannot be set up. A's async wait is served by its
// thread's wait service, whose helper re-checks every async waiter of a woken word (so a B in A's
// thread is woken too) and re-arms its kernel wait now and then (so a B in a worker may be ahead
// of it in the kernel's queue). The give-up code is the same core code as here; the wait
// service's own baton (a retiring slot that was woken) is tested against a fake kernel in
// tests/native_binder.test.ts.
const workerFutexes: [string, () => Futex][] = [["atomics", () => atomicsFutex]];

for (const kind of Object.keys(cases)) {
  for (const mode of ["aborted", "timed"] as const) {
    for (const [fname, inner] of workerFutexes) {
      const name = `give-up baton, ${kind}, async ${mode} A beside a blocking B in a worker, ${fname} futex: B returns promptly`;
      test(name, { timeout: 30_000 }, async () => {
        const ac = new AbortController();
        const { futex, arm } = windowAfterWake(inner(), ac, mode);
        const c = cases[kind](futex);
        const pa = c.a(mode === "aborted" ? { signal: ac.signal } : { signal: ac.signal, timeout: 300 });
        await until("A announced", c.asleepA);
        const flags = new SharedArrayBuffer(8);
        const worker = new Worker(testScript("workers/baton_b"), {
          workerData: { kind, handle: c.handle, timeoutMs: B_TIMEOUT_MS, flags },
        });
        try {
          const report = new Promise<{ got: boolean; ms: number }>((resolve, reject) => {
            worker.once("message", resolve);
            worker.once("error", reject);
          });
          await until("B about to block", () => Atomics.load(new Int32Array(flags), 0) === 1);
          await until("B announced", c.asleep);
          await tick(100); // and asleep, behind A
          arm(() => c.between());
          const t0 = performance.now();
          await releaseAndLeave(c, mode, pa);
          const r = await report;
          assert.equal(r.got, true, "B timed out");
          assert.ok(r.ms < B_TIMEOUT_MS - 1000, `B slept ${r.ms.toFixed(0)} ms of its ${B_TIMEOUT_MS} ms: stranded by A's give-up (it returned ${(performance.now() - t0).toFixed(0)} ms after the release)`);
          c.idle();
        } finally {
          await worker.terminate();
        }
      });
    }
  }
}

// The blocking timed path: runBlocking steps once more after the wake and only then gives up.
// A scripted futex plays the other threads inside A's one sleep: the holder's release (its wake
// goes to A), the move, and A's deadline passing. B is virtual: it is owed a wake, so either the
// give-up sent one or the word is left marked, so that the next release sends it.
interface Blocking {
  /** The primitive on `f`, and A's timed blocking call. */
  make(f: Futex): { handle: { buffer: ArrayBuffer | SharedArrayBuffer; byteOffset: number }; a(timeoutMs: number): boolean };
  /** The word while another thread holds it with B asleep. */
  held: number;
  /** Inside A's sleep: the holder's release (its one wake: A), then the move; the word after both. */
  moved(word: Int32Array, notify: Int32Array): void;
  /** The word tells the next release to wake (B is owed that wake). */
  marked(w: number): boolean;
}

const blocking: Record<string, Blocking> = {
  Mutex: {
    make: (f) => {
      const m = new Mutex({ futex: f, spin: 0 });
      return { handle: m.handle, a: (t) => m.lock(t) };
    },
    held: MUTEX_CONTENDED,
    moved: (w) => Atomics.store(w, 0, MUTEX_LOCKED), // unlocked to 0, then a fast-path locker's 1
    marked: (w) => w === MUTEX_CONTENDED,
  },
  Semaphore: {
    make: (f) => {
      const s = new Semaphore(0, { futex: f });
      return { handle: s.handle, a: (t) => s.acquire(t) };
    },
    held: SEMAPHORE_WAITERS,
    moved: (w) => Atomics.store(w, 0, 0), // a release (1), then another acquirer takes the permit
    marked: (w) => w === SEMAPHORE_WAITERS,
  },
  LockCnt: {
    make: (f) => {
      const lc = new LockCnt({ futex: f, spin: 0 });
      return { handle: lc.handle, a: (t) => lc.lock(t) };
    },
    held: LOCKCNT_WAITING,
    moved: (w) => Atomics.store(w, 0, LOCKCNT_LOCKED), // unlocked to FREE, then a fast-path lock
    marked: (w) => (w & 3) === LOCKCNT_WAITING,
  },
  RwLock: {
    make: (f) => {
      const rw = new RwLock({ futex: f, spin: 0 });
      return { handle: rw.handle, a: (t) => rw.writeLock(t) };
    },
    held: RW_WRITE_LOCKED | RW_WRITERS_WAITING,
    moved: (w, notify) => {
      Atomics.add(notify, 0, 1); // the writer's unlock: clears WRITERS_WAITING, bumps notify, wakes A
      Atomics.store(w, 0, 1); // a fast-path reader
    },
    marked: (w) => (w & RW_WRITERS_WAITING) !== 0,
  },
};

for (const [kind, c] of Object.entries(blocking)) {
  test(`give-up baton, ${kind}, blocking timed (scripted futex): after the word moved in A's sleep, B is still owed a wake`, () => {
    let sleeps = 0;
    const f = scriptedFutex();
    const p = c.make(f);
    const w = wordView(p.handle);
    const notify = kind === "RwLock" ? wordView(p.handle, 1) : new Int32Array(1); // the writers' sequence word
    Atomics.store(w, 0, c.held);
    const timeoutMs = 30;
    const t0 = performance.now();
    let seq = 0;
    f.hook = () => {
      if (sleeps++ > 0) return "timed-out";
      c.moved(w, notify);
      seq = Atomics.load(notify, 0);
      while (performance.now() - t0 <= timeoutMs + 2); // A's deadline passes while it holds the wake
      return "ok";
    };
    const wakes = f.calls.wakeOne;
    assert.equal(p.a(timeoutMs), false, "A times out");
    const sent = f.calls.wakeOne > wakes && (kind !== "RwLock" || Atomics.load(notify, 0) !== seq);
    assert.ok(sent || c.marked(Atomics.load(w, 0)), `B is owed a wake: none sent, and the word ${Atomics.load(w, 0)} will not make the next release send one`);
  });
}

// After an aborted async wait, this thread's pending-async count on the word is back to 0: a
// blocking wait there is allowed (it sleeps and times out), not refused as a deadlock.
test("a thread blocks on a word after one of its async waits there was aborted (no stale DeadlockError)", async () => {
  const forms: [string, () => { async(signal: AbortSignal): Promise<boolean>; block(ms: number): boolean }][] = [
    ["Mutex", () => {
      const m = new Mutex({ spin: 0 });
      Atomics.store(wordView(m.handle), 0, MUTEX_LOCKED); // another thread holds it
      return { async: (signal) => m.lockAsync({ signal }), block: (ms) => m.lock(ms) };
    }],
    ["Semaphore", () => {
      const s = new Semaphore(0);
      return { async: (signal) => s.acquireAsync({ signal }), block: (ms) => s.acquire(ms) };
    }],
    ["LockCnt", () => {
      const lc = new LockCnt({ spin: 0 });
      Atomics.store(wordView(lc.handle), 0, LOCKCNT_LOCKED);
      return { async: (signal) => lc.lockAsync({ signal }), block: (ms) => lc.lock(ms) };
    }],
  ];
  for (const [kind, make] of forms) {
    for (const when of ["before it slept", "while it slept"] as const) {
      const p = make();
      const ac = new AbortController();
      const pending = p.async(ac.signal);
      if (when === "while it slept") await tick(10);
      ac.abort(new Error("gone"));
      await assert.rejects(pending, /gone/);
      const t0 = performance.now();
      assert.equal(p.block(30), false, `${kind} (aborted ${when}): the blocking wait times out`);
      assert.ok(performance.now() - t0 >= 25, `${kind}: it slept`);
    }
  }
});
