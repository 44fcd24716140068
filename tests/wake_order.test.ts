/**
 * Store, then wake — checked at the instant of every wake, on every primitive. A wake sent while
 * the word still holds the value its sleeper sleeps on is lost if the sleeper runs first: it
 * re-checks, sees nothing new and sleeps again, and the store that follows wakes nobody. Whether
 * a machine shows that depends on its scheduler (a loaded 2-core Linux runs the woken thread
 * first; others may not); the chaos futex's after-wake delay widens the window, and this file
 * closes it: a futex wrapper snapshots, when a release call begins, every word that has async
 * sleepers, and fails any wake sent inside the call while the woken word still holds its
 * snapshot value (the store the wake announces has not happened yet). Deterministic, in every
 * runtime.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import {
  atomicsFutex,
  AutoResetEvent,
  Barrier,
  Condition,
  type Futex,
  Latch,
  LockCnt,
  ManualResetEvent,
  Mutex,
  Once,
  RwLock,
  Semaphore,
  type WaitResult,
} from "../mod.ts";
import { tick, until } from "./support/runtime.ts";

interface Sleeper {
  view: Int32Array;
  index: number;
}

/**
 * The Atomics futex, checking every wake made inside `during(op)`: the woken word must already
 * differ from what it held when `op` began (the store the wake announces came first). A woken
 * sleeper that ran at once would otherwise re-check, see the old word and sleep again.
 */
function storeBeforeWake(): { futex: Futex; violations: string[]; sleeping(): number; during(what: string, op: () => unknown): Promise<void> } {
  const sleepers: Sleeper[] = [];
  const violations: string[] = [];
  let before: Map<string, number> | undefined;
  let current = "";
  const bufferIds = new Map<ArrayBufferLike, number>();
  /** A word's identity: its buffer (numbered) and byte position, whatever view names it. */
  const name = (view: Int32Array, index: number): string => {
    if (!bufferIds.has(view.buffer)) bufferIds.set(view.buffer, bufferIds.size);
    return `${bufferIds.get(view.buffer)}:${view.byteOffset + 4 * index}`;
  };
  const check = (kind: string, view: Int32Array, index: number): void => {
    const k = name(view, index);
    const was = before?.get(k);
    if (was !== undefined && Atomics.load(view, index) === was) {
      violations.push(`${current}: ${kind} while the word still held ${was}, its value before the call`);
    }
  };
  const futex: Futex = {
    ...atomicsFutex,
    name: "store-before-wake(atomics)",
    waitAsync(view, index, expected, timeoutMs, signal): Promise<WaitResult> {
      const s = { view, index };
      sleepers.push(s);
      return atomicsFutex.waitAsync(view, index, expected, timeoutMs, signal).finally(() => {
        sleepers.splice(sleepers.indexOf(s), 1);
      });
    },
    wakeOne(view, index) {
      check("wakeOne", view, index);
      atomicsFutex.wakeOne(view, index);
    },
    wakeAll(view, index) {
      check("wakeAll", view, index);
      atomicsFutex.wakeAll(view, index);
    },
  };
  const during = async (what: string, op: () => unknown): Promise<void> => {
    before = new Map(sleepers.map((s) => [name(s.view, s.index), Atomics.load(s.view, s.index)]));
    current = what;
    try {
      await op(); // an async op (the Once runner's end) is checked until it settles
    } finally {
      before = undefined;
    }
  };
  return { futex, violations, sleeping: () => sleepers.length, during };
}

const LIMIT = { timeout: 3000 };

interface Lock {
  readonly handle: object;
  lock(): boolean;
  lockAsync(o: { timeout?: number }): Promise<boolean>;
  unlock(): void;
}

/** Two async waiters on a Condition (each holding the Mutex around its wait); `notify` wakes them. */
function conditionWaiters(f: Futex, notify: (c: Condition) => (() => unknown)[]): { sleepers: Promise<unknown>[]; n: number; release: (() => unknown)[] } {
  const m = new Mutex({ futex: f });
  const c = new Condition({ futex: f });
  const waiter = async () => {
    await m.lockAsync(LIMIT);
    const ok = await c.waitAsync(m, LIMIT);
    m.unlock();
    return ok;
  };
  return { sleepers: [waiter(), waiter()], n: 2, release: notify(c) };
}

/** `holder` locked; two attached instances' lockAsync asleep behind it; the holder's unlock releases. */
function lockers<L extends Lock>(holder: L, attach: (h: L["handle"]) => L): { sleepers: Promise<unknown>[]; n: number; release: (() => unknown)[] } {
  holder.lock();
  const sleepers = [attach(holder.handle), attach(holder.handle)].map((x) => x.lockAsync(LIMIT).then((ok) => (ok && x.unlock(), ok)));
  return { sleepers, n: 2, release: [() => holder.unlock()] };
}

/** Each case: put sleepers to sleep through `f`, then return what releases them and their results. */
const cases: Record<string, (f: Futex) => { sleepers: Promise<unknown>[]; n: number; release: (() => unknown)[] }> = {
  "Mutex.unlock": (f) => lockers(new Mutex({ futex: f, spin: 0 }), (h) => Mutex.from(h, { futex: f })),
  "Semaphore.release": (f) => {
    const s = new Semaphore(0, { futex: f });
    return { sleepers: [s.acquireAsync(LIMIT), s.acquireAsync(LIMIT)], n: 2, release: [() => s.release(), () => s.release()] };
  },
  "LockCnt.unlock": (f) => lockers(new LockCnt({ futex: f, spin: 0 }), (h) => LockCnt.from(h, { futex: f })),
  "ManualResetEvent.set": (f) => {
    const ev = new ManualResetEvent({ futex: f });
    return { sleepers: [ev.waitAsync(LIMIT), ev.waitAsync(LIMIT)], n: 2, release: [() => ev.set()] };
  },
  "AutoResetEvent.set": (f) => {
    const ev = new AutoResetEvent({ futex: f });
    return { sleepers: [ev.waitAsync(LIMIT), ev.waitAsync(LIMIT)], n: 2, release: [() => ev.set(), () => ev.set()] };
  },
  "Barrier trip (the last arrival)": (f) => {
    const b = new Barrier(3, { futex: f });
    return { sleepers: [b.waitAsync(LIMIT), b.waitAsync(LIMIT)], n: 2, release: [() => void b.wait(LIMIT.timeout)] };
  },
  "Barrier.reset": (f) => {
    const b = new Barrier(3, { futex: f });
    const caught = (p: Promise<unknown>) => p.then(() => "released", (e: Error) => e.name);
    return { sleepers: [caught(b.waitAsync(LIMIT)), caught(b.waitAsync(LIMIT))], n: 2, release: [() => b.reset()] };
  },
  "Latch.countDown (the opening one)": (f) => {
    const l = new Latch(2, { futex: f });
    return { sleepers: [l.waitAsync(LIMIT), l.waitAsync(LIMIT)], n: 2, release: [() => l.countDown(), () => l.countDown()] };
  },
  "Once (the runner's end)": (f) => {
    const o = new Once({ futex: f });
    let finish!: () => void;
    const runner = o.runAsync(() => new Promise<void>((r) => (finish = r)));
    const others = [o.runAsync(() => {}), o.runAsync(() => {})].map((p) => p.then(() => "done")); // false: they did not run fn
    return { sleepers: [runner, ...others], n: 2, release: [() => (finish(), runner)] };
  },
  "Condition.notifyOne": (f) => conditionWaiters(f, (c) => [() => c.notifyOne(), () => c.notifyOne()]),
  "Condition.notifyAll": (f) => conditionWaiters(f, (c) => [() => c.notifyAll()]),
  "RwLock.writeUnlock (writers and readers waiting)": (f) => {
    const rw = new RwLock({ futex: f, spin: 0 });
    rw.writeLock();
    const w = RwLock.from(rw.handle, { futex: f });
    const r = RwLock.from(rw.handle, { futex: f });
    const writer = w.writeLockAsync(LIMIT).then((ok) => (ok && w.writeUnlock(), ok));
    const reader = r.readLockAsync(LIMIT).then((ok) => (ok && r.readUnlock(), ok));
    return { sleepers: [writer, reader], n: 2, release: [() => rw.writeUnlock()] };
  },
};

for (const [name, make] of Object.entries(cases)) {
  test(`store, then wake: ${name} wakes only once the word shows the change`, { timeout: 20_000 }, async () => {
    const { futex, violations, sleeping, during } = storeBeforeWake();
    const c = make(futex);
    await until(`${c.n} sleepers`, () => sleeping() >= c.n);
    await tick(10);
    for (const [i, op] of c.release.entries()) await during(`${name}, call ${i + 1}`, op);
    const results = await Promise.all(c.sleepers);
    assert.deepEqual(violations, [], `${name}: a wake went out before the store it announces`);
    for (const r of results) assert.notEqual(r, false, `${name}: a sleeper timed out (results ${JSON.stringify(results)})`);
  });
}
