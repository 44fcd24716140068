/**
 * Worker half of the benchmarks (scripts/bench/suite.ts). One job per worker, named by `kind`:
 *
 *   pingpong   one side of a hand-off through two words: hand-written Atomics.wait/notify
 *              ("raw"), pure busy-wait ("busy"), QEMU events on the Atomics futex ("event"),
 *              events on this runtime's native futex ("native-event") or the raw loop on it
 *              ("native-raw")
 *   lock       take and release one lock until told to stop, counting acquisitions: naive
 *              3-state Atomics mutex ("naive", Drepper's), Mutex, LockCnt, V8 Atomics.Mutex ("v8")
 *   sem        producer or consumer through a bounded pair of counting semaphores ("naive" raw
 *              Atomics, or Semaphore)
 *
 * Every job waits at the start line (GO word) so the clocks start together, measures its own
 * elapsed time (workers do not share a time origin), checks its data, and posts { ms, ... }.
 * Every wait is bounded: a stall throws instead of hanging the run.
 */
import { parentPort, workerData } from "node:worker_threads";
import { atomicsFutex, type Futex, LockCnt, ManualResetEvent, Mutex, Semaphore } from "../../mod.ts";
import { countingFutex } from "../../testing.ts";
import { loadNative } from "../lib/native.ts";
import { naive } from "./naive.ts";
import { type BenchJob, COUNTER, EV_A, EV_B, GO, LOCK, READY, SEM_ITEMS, SEM_SLOTS, STOP, W_A, W_B } from "./layout.ts";

const LIMIT_MS = 20_000;

const job = workerData as BenchJob;
const i32 = new Int32Array(job.sab);
const at = (byte: number): number => (job.base + byte) / 4;

function stalled(what: string): never {
  throw new Error(`${job.kind}/${job.mode} ${job.side}: ${what} stalled for ${LIMIT_MS} ms (lost wakeup?)`);
}

const futex: Futex | undefined = job.mode.startsWith("native") ? (await loadNative()).nativeFutex({ sliceMs: LIMIT_MS }) : undefined;
/** The library's primitives run on this counting wrapper (calls happen only on slow paths). */
const counted = countingFutex(futex ?? atomicsFutex);
/** The hand-written mutex and semaphore baselines (scripts/bench/naive.ts). */
const base = naive(i32, LIMIT_MS, stalled);
/** Sleeps (futex/Atomics waits) and wake calls (notify/FUTEX_WAKE) of the hand-written ping-pong loops. */
let rawSleeps = 0, rawWakes = 0;
const sleeps = (): number => rawSleeps + base.counts.sleeps + counted.calls.wait;
const wakes = (): number => rawWakes + base.counts.wakes + counted.calls.wakeOne + counted.calls.wakeAll;

/** The loop users write: sleep while the word still holds what we saw. */
function rawWaitFor(index: number, target: number, f: Futex | undefined): void {
  for (let v = Atomics.load(i32, index); v !== target; v = Atomics.load(i32, index)) {
    rawSleeps++;
    const r = f ? f.wait(i32, index, v, LIMIT_MS) : Atomics.wait(i32, index, v, LIMIT_MS);
    if (r === "timed-out") stalled("raw ping-pong");
  }
}

function rawPost(index: number, value: number, f: Futex | undefined): void {
  Atomics.store(i32, index, value);
  rawWakes++;
  if (f) f.wakeAll(i32, index);
  else Atomics.notify(i32, index);
}

/** Round trips `from`..`to` (round numbers continue across calls: the raw loops count them). */
function pingpong(from: number, to: number): void {
  const ping = job.side === "ping";
  const a = at(W_A), b = at(W_B);
  if (job.mode === "raw" || job.mode === "native-raw") {
    for (let r = from; r <= to; r++) {
      if (ping) {
        rawPost(a, r, futex);
        rawWaitFor(b, r, futex);
      } else {
        rawWaitFor(a, r, futex);
        rawPost(b, r, futex);
      }
    }
  } else if (job.mode === "busy") {
    for (let r = from; r <= to; r++) {
      if (ping) {
        Atomics.store(i32, a, r);
        while (Atomics.load(i32, b) !== r);
      } else {
        while (Atomics.load(i32, a) !== r);
        Atomics.store(i32, b, r);
      }
    }
  } else {
    // QEMU's S2 hand-off: the pinger resets its reply event before setting the request.
    const evA = events[0], evB = events[1];
    for (let r = from; r <= to; r++) {
      if (ping) {
        evB.reset();
        evA.set();
        if (!evB.wait(LIMIT_MS)) stalled("event ping-pong");
      } else {
        if (!evA.wait(LIMIT_MS)) stalled("event ping-pong");
        evA.reset();
        evB.set();
      }
    }
  }
}

const events = job.kind === "pingpong" && job.mode.endsWith("event")
  ? [EV_A, EV_B].map((off) => ManualResetEvent.from({ buffer: job.sab, byteOffset: job.base + off }, { spin: job.spin, futex: counted }))
  : [];


function lock(): Record<string, number> {
  const stop = STOP / 4, counter = at(COUNTER);
  let acquisitions = 0;
  const section = (): void => {
    i32[counter]++; // a plain read-modify-write: only mutual exclusion keeps the total exact
    acquisitions++;
  };
  // Check the stop word every 64 acquisitions, the same for every mode.
  const until = (body: () => void): void => {
    while (Atomics.load(i32, stop) === 0) for (let k = 0; k < 64; k++) body();
  };
  if (job.mode === "naive") {
    const w = at(LOCK);
    until(() => {
      base.lock(w);
      section();
      base.unlock(w);
    });
  } else if (job.mode === "mutex") {
    const m = Mutex.from({ buffer: job.sab, byteOffset: job.base + LOCK }, { spin: job.spin, futex: counted });
    until(() => {
      if (!m.lock(LIMIT_MS)) stalled("Mutex.lock");
      section();
      m.unlock();
    });
  } else if (job.mode === "lockcnt") {
    const lc = LockCnt.from({ buffer: job.sab, byteOffset: job.base + LOCK }, { spin: job.spin, futex: counted });
    until(() => {
      lc.lock();
      section();
      lc.unlock();
    });
  } else if (job.mode === "v8") {
    const mutex = job.mutex;
    const api = (Atomics as unknown as { Mutex: { lock(m: unknown, fn: () => void): void } }).Mutex;
    until(() => api.lock(mutex, section));
  } else {
    throw new Error(`unknown lock mode ${job.mode}`);
  }
  return { acquisitions };
}


function sem(): Record<string, number> {
  const producer = job.side === "producer";
  let moved = 0;
  if (job.mode === "naive") {
    const items = at(SEM_ITEMS), slots = at(SEM_SLOTS);
    for (let n = 0; n < job.rounds; n++, moved++) {
      if (producer) {
        base.acquire(slots);
        base.release(items);
      } else {
        base.acquire(items);
        base.release(slots);
      }
    }
  } else {
    const opts = { spin: job.spin, futex: counted };
    const items = Semaphore.from({ buffer: job.sab, byteOffset: job.base + SEM_ITEMS }, opts);
    const slots = Semaphore.from({ buffer: job.sab, byteOffset: job.base + SEM_SLOTS }, opts);
    for (let n = 0; n < job.rounds; n++, moved++) {
      if (producer) {
        if (!slots.acquire(LIMIT_MS)) stalled("Semaphore.acquire (slots)");
        items.release();
      } else {
        if (!items.acquire(LIMIT_MS)) stalled("Semaphore.acquire (items)");
        slots.release();
      }
    }
  }
  return { moved };
}

if (parentPort) {
  try {
    Atomics.add(i32, READY / 4, 1);
    Atomics.notify(i32, READY / 4);
    while (Atomics.load(i32, GO / 4) === 0) Atomics.wait(i32, GO / 4, 0, 1000);
    let t0 = performance.now();
    let extra: Record<string, number> = {};
    if (job.kind === "pingpong") {
      // Warm-up: the first rounds run while the engine compiles the loop; only the rest is timed.
      const warm = Math.min(1000, Math.ceil(job.rounds / 4));
      pingpong(1, warm);
      t0 = performance.now();
      rawSleeps = rawWakes = base.counts.sleeps = base.counts.wakes = counted.calls.wait = counted.calls.wakeOne = counted.calls.wakeAll = 0;
      pingpong(warm + 1, warm + job.rounds);
    } else {
      extra = job.kind === "lock" ? lock() : sem();
    }
    parentPort.postMessage({ ok: true, ms: performance.now() - t0, sleeps: sleeps(), wakes: wakes(), ...extra });
  } catch (e) {
    parentPort.postMessage({ ok: false, error: e instanceof Error ? e.message : String(e) });
  }
}
