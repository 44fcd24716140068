/**
 * Worker half of the Condition and RwLock benchmarks (scripts/bench/toolkit.ts). One job per
 * worker:
 *
 *   cond     one side of a turn-taking ping-pong through a Mutex-guarded turn word: wait on the
 *            condition until it is your turn, flip the turn, notify, unlock. Modes: "lib"
 *            (Mutex + Condition), "raw" (the same written inline with Atomics: a 3-state mutex
 *            and a sequence-word condvar), "v8" (V8's Atomics.Mutex + Atomics.Condition, Node
 *            with --harmony-struct)
 *   rw       readers sum a 1024-word record under a read lock; the writer rewrites it under the
 *            write lock, pacing itself to 1 write per 100 operations; modes "rwlock" or
 *            "mutex" (the same work with every access under one Mutex)
 *
 * Every job waits at the start line (GO) and posts { ok, ms, ops }; every wait is bounded.
 */
import { parentPort, workerData } from "node:worker_threads";
import { atomicsFutex, Condition, Mutex, RwLock } from "../../mod.ts";
import { countingFutex } from "../../testing.ts";

import { RECORD_WORDS, T, type ToolkitJob } from "./toolkit_layout.ts";

const LIMIT_MS = 20_000;
/** The library's primitives run on this counting wrapper: each report carries its futex calls. */
const counted = countingFutex(atomicsFutex);
const job = workerData as ToolkitJob;
const i32 = new Int32Array(job.sab);
const ix = (byte: number): number => byte / 4;

function startLine(): void {
  Atomics.add(i32, ix(T.READY), 1);
  while (Atomics.load(i32, ix(T.GO)) === 0) Atomics.wait(i32, ix(T.GO), 0, 50);
}

// ------------------------------------------------------------------ cond

/** Inline 3-state mutex (Drepper's mutex2) and sequence condvar: the raw baseline. */
const M = ix(T.MUTEX), S = ix(T.COND);
function rawLock(): void {
  let c = Atomics.compareExchange(i32, M, 0, 1);
  if (c === 0) return;
  if (c !== 2) c = Atomics.exchange(i32, M, 2);
  while (c !== 0) {
    Atomics.wait(i32, M, 2, LIMIT_MS);
    c = Atomics.exchange(i32, M, 2);
  }
}
function rawUnlock(): void {
  if (Atomics.sub(i32, M, 1) !== 1) {
    Atomics.store(i32, M, 0);
    Atomics.notify(i32, M, 1);
  }
}
function rawWait(): void {
  const seen = Atomics.load(i32, S);
  rawUnlock();
  Atomics.wait(i32, S, seen, LIMIT_MS);
  rawLock();
}
function rawNotifyOne(): void {
  Atomics.add(i32, S, 1);
  Atomics.notify(i32, S, 1);
}

function condPingPong(): number {
  const me = job.side === "ping" ? 0 : 1;
  const turn = ix(T.TURN);
  const n = job.rounds;
  if (job.mode === "raw") {
    startLine();
    const t0 = performance.now();
    for (let r = 0; r < n; r++) {
      rawLock();
      while (i32[turn] !== me) rawWait();
      i32[turn] = 1 - me;
      rawNotifyOne();
      rawUnlock();
    }
    return performance.now() - t0;
  }
  if (job.mode === "v8") {
    const A = Atomics as unknown as {
      Mutex: { lock(m: unknown, fn: () => void): void };
      Condition: { wait(c: unknown, m: unknown, timeout?: number): boolean; notify(c: unknown, count?: number): number };
    };
    const m = job.mutex, c = job.cond;
    startLine();
    const t0 = performance.now();
    for (let r = 0; r < n; r++) {
      A.Mutex.lock(m, () => {
        while (i32[turn] !== me) A.Condition.wait(c, m, LIMIT_MS);
        i32[turn] = 1 - me;
        A.Condition.notify(c, 1);
      });
    }
    return performance.now() - t0;
  }
  const m = Mutex.from({ buffer: job.sab, byteOffset: T.MUTEX }, { spin: job.spin });
  const c = Condition.from({ buffer: job.sab, byteOffset: T.COND });
  startLine();
  const t0 = performance.now();
  for (let r = 0; r < n; r++) {
    m.lock();
    while (i32[turn] !== me) c.wait(m, LIMIT_MS);
    i32[turn] = 1 - me;
    c.notifyOne();
    m.unlock();
  }
  return performance.now() - t0;
}

// ------------------------------------------------------------------ rw

function rwWork(): { ms: number; ops: number } {
  const data = ix(T.DATA);
  const stop = ix(T.STOP);
  const slot = (k: number): number => ix(T.OPS + 64 * k);
  const total = (): number => {
    let t = 0;
    for (let k = 0; k < job.workers; k++) t += Atomics.load(i32, slot(k));
    return t;
  };
  const writer = job.side === "writer";
  let mine = 0;
  let sink = 0;
  const read = (): void => {
    let s = 0;
    for (let w = 0; w < RECORD_WORDS; w++) s += i32[data + w];
    if (s !== i32[data] * RECORD_WORDS) throw new Error("torn record");
    sink += s;
  };
  const write = (): void => {
    const v = i32[data] + 1;
    for (let w = 0; w < RECORD_WORDS; w++) i32[data + w] = v;
  };
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const pace = (): void => { // the writer: one write per 100 operations in all
    while (total() < 100 * (mine + 1) && Atomics.load(i32, stop) === 0) Atomics.wait(nap, 0, 0, 0.02);
  };
  let body: () => void;
  if (job.mode === "rwlock") {
    const rw = RwLock.from({ buffer: job.sab, byteOffset: T.RW }, { spin: job.spin, futex: counted });
    body = writer ? () => (pace(), rw.writeLock(), write(), rw.writeUnlock()) : () => (rw.readLock(), read(), rw.readUnlock());
  } else {
    const m = Mutex.from({ buffer: job.sab, byteOffset: T.MUTEX }, { spin: job.spin, futex: counted });
    body = writer ? () => (pace(), m.lock(), write(), m.unlock()) : () => (m.lock(), read(), m.unlock());
  }
  startLine();
  const t0 = performance.now();
  while (Atomics.load(i32, stop) === 0) {
    body();
    Atomics.store(i32, slot(job.index), ++mine); // own cache line: no shared counter to bounce
  }
  if (sink === -1) throw new Error("unreachable");
  return { ms: performance.now() - t0, ops: mine };
}

try {
  const report = job.kind === "cond" ? { ms: condPingPong(), ops: job.rounds } : rwWork();
  parentPort!.postMessage({ ok: true, ...report, sleeps: counted.calls.wait, wakes: counted.calls.wakeOne + counted.calls.wakeAll });
} catch (e) {
  parentPort!.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
}
