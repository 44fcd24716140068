/**
 * The work of the Condition and RwLock scenarios, written once for the worker roles
 * (tests/workers/toolkit_roles.ts) and the cross-process peer (tests/native/toolkit_peer.ts),
 * each with a blocking and an async form. Untimed waits dominate, so a lost wakeup hangs (and
 * trips the stall watchdog or the peer's timeout) rather than recovering at a timeout; a few
 * waits give up early (timeout, abort) and then wait for real, which must not lose a wake.
 */

import type { Condition, Mutex, RwLock } from "../../mod.ts";
import { BB, CAP, DATA_WORDS, RWL } from "./toolkit_layout.ts";

/** Fail the scenario. */
function fail(msg: string): never {
  throw new Error(msg);
}

/** The bounded buffer's shared objects: the block's Int32 view (index = byte offset / 4). */
export interface Buffer {
  i32: Int32Array;
  base: number; // Int32 index of the block
  m: Mutex;
  notEmpty: Condition;
  notFull: Condition;
}

const at = (b: { base: number }, byte: number): number => b.base + byte / 4;

function put(b: Buffer, item: number): void {
  const i = b.i32;
  if (i[at(b, BB.COUNT)] >= CAP) fail(`put into a full ring (count ${i[at(b, BB.COUNT)]})`);
  const tail = i[at(b, BB.TAIL)];
  i[at(b, BB.SLOTS) + tail] = item;
  i[at(b, BB.TAIL)] = (tail + 1) % CAP;
  i[at(b, BB.COUNT)]++;
  Atomics.add(i, at(b, BB.PRODUCED), 1);
}

function take(b: Buffer): number {
  const i = b.i32;
  if (i[at(b, BB.COUNT)] <= 0) fail(`take from an empty ring (count ${i[at(b, BB.COUNT)]})`);
  const head = i[at(b, BB.HEAD)];
  const item = i[at(b, BB.SLOTS) + head];
  i[at(b, BB.HEAD)] = (head + 1) % CAP;
  i[at(b, BB.COUNT)]--;
  Atomics.add(i, at(b, BB.CONSUMED), 1);
  return item;
}

const full = (b: Buffer): boolean => b.i32[at(b, BB.COUNT)] === CAP;
const empty = (b: Buffer): boolean => b.i32[at(b, BB.COUNT)] === 0;

/** Producer `id`: puts items id*n+1 … id*n+n. */
export function produce(b: Buffer, id: number, n: number): { timedOut: number } {
  let timedOut = 0;
  for (let k = 0; k < n; k++) {
    b.m.lock();
    while (full(b)) {
      if (k % 7 === 3) {
        if (!b.notFull.wait(b.m, 1)) timedOut++; // give up early, re-check, wait again
      } else b.notFull.wait(b.m);
    }
    put(b, id * n + k + 1);
    b.notEmpty.notifyOne();
    b.m.unlock();
  }
  return { timedOut };
}

/** Consumer: takes n items; returns their sum and count. */
export function consume(b: Buffer, n: number): { sum: number; got: number; timedOut: number } {
  let sum = 0;
  let timedOut = 0;
  for (let k = 0; k < n; k++) {
    b.m.lock();
    while (empty(b)) {
      if (k % 7 === 3) {
        if (!b.notEmpty.wait(b.m, 1)) timedOut++;
      } else b.notEmpty.wait(b.m);
    }
    sum += take(b);
    b.notFull.notifyOne();
    b.m.unlock();
  }
  return { sum, got: n, timedOut };
}

/** The async forms: waitAsync / lockAsync, some waits given up by timeout or abort first. */
export async function produceAsync(b: Buffer, id: number, n: number): Promise<{ timedOut: number; aborted: number }> {
  let timedOut = 0;
  let aborted = 0;
  for (let k = 0; k < n; k++) {
    await b.m.lockAsync();
    while (full(b)) await waitAsync(b.notFull, b.m, k, () => timedOut++, () => aborted++);
    put(b, id * n + k + 1);
    b.notEmpty.notifyOne();
    b.m.unlock();
    if (k % 64 === 63) await new Promise((r) => setTimeout(r, 0));
  }
  return { timedOut, aborted };
}

export async function consumeAsync(b: Buffer, n: number): Promise<{ sum: number; got: number; timedOut: number; aborted: number }> {
  let sum = 0;
  let timedOut = 0;
  let aborted = 0;
  for (let k = 0; k < n; k++) {
    await b.m.lockAsync();
    while (empty(b)) await waitAsync(b.notEmpty, b.m, k, () => timedOut++, () => aborted++);
    sum += take(b);
    b.notFull.notifyOne();
    b.m.unlock();
    if (k % 64 === 63) await new Promise((r) => setTimeout(r, 0));
  }
  return { sum, got: n, timedOut, aborted };
}

async function waitAsync(c: Condition, m: Mutex, k: number, onTimeout: () => void, onAbort: () => void): Promise<void> {
  if (k % 7 === 3) {
    if (!(await c.waitAsync(m, { timeout: 1 }))) onTimeout();
  } else if (k % 7 === 5) {
    try {
      await c.waitAsync(m, { signal: AbortSignal.timeout(1) });
    } catch {
      onAbort(); // re-locked before the rejection: the loop re-checks under the lock
    }
  } else {
    await c.waitAsync(m);
  }
  if (!m.held) fail("Condition.waitAsync settled without the mutex held again");
}

/** The RwLock block's shared objects. */
export interface Shared {
  i32: Int32Array;
  base: number;
  rw: RwLock;
}

function readSection(s: Shared): void {
  const i = s.i32;
  Atomics.add(i, at(s, RWL.READERS_IN), 1);
  if (Atomics.load(i, at(s, RWL.WRITER_IN)) !== 0) fail("a reader is inside while a writer is");
  const first = i[at(s, RWL.DATA)];
  for (let w = 1; w < DATA_WORDS; w++) {
    const v = i[at(s, RWL.DATA) + w];
    if (v !== first) fail(`torn write seen by a reader: data[0] = ${first}, data[${w}] = ${v}`);
  }
  Atomics.sub(i, at(s, RWL.READERS_IN), 1);
  Atomics.add(i, at(s, RWL.READS), 1);
}

function writeSection(s: Shared, long: boolean): void {
  const i = s.i32;
  if (Atomics.exchange(i, at(s, RWL.WRITER_IN), 1) !== 0) fail("two writers inside");
  if (Atomics.load(i, at(s, RWL.READERS_IN)) !== 0) fail("a writer is inside while readers are");
  const v = i[at(s, RWL.DATA)] + 1;
  for (let w = 0; w < DATA_WORDS; w++) {
    i[at(s, RWL.DATA) + w] = v; // one word at a time: a reader inside now would see it torn
    if (long && w === DATA_WORDS / 2) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 0.05);
  }
  Atomics.add(i, at(s, RWL.WRITES), 1);
  Atomics.store(i, at(s, RWL.WRITER_IN), 0);
}

/** Random reads and writes (write share `writeRate`); blocking forms. Returns the writes this worker made. */
export function rwWork(s: Shared, n: number, random: () => number, writeRate: number): { writes: number; reads: number } {
  let writes = 0;
  let reads = 0;
  for (let k = 0; k < n; k++) {
    const r = random();
    if (r < writeRate) {
      if (k % 5 === 1) {
        if (!s.rw.writeLock(1)) s.rw.writeLock(); // give up early, then wait for real
      } else if (k % 5 === 2) {
        if (!s.rw.tryWrite()) continue;
      } else s.rw.writeLock();
      writeSection(s, k % 16 === 0);
      s.rw.writeUnlock();
      writes++;
    } else {
      if (k % 5 === 1) {
        if (!s.rw.readLock(1)) s.rw.readLock();
      } else if (k % 5 === 2) {
        if (!s.rw.tryRead()) continue;
      } else s.rw.readLock();
      readSection(s);
      s.rw.readUnlock();
      reads++;
    }
  }
  return { writes, reads };
}

/** The same with the async forms (timeouts and aborts before waiting for real). */
export async function rwWorkAsync(s: Shared, n: number, random: () => number, writeRate: number): Promise<{ writes: number; reads: number }> {
  let writes = 0;
  let reads = 0;
  for (let k = 0; k < n; k++) {
    const write = random() < writeRate;
    const lock = write ? (o?: { timeout?: number; signal?: AbortSignal }) => s.rw.writeLockAsync(o) : (o?: { timeout?: number; signal?: AbortSignal }) => s.rw.readLockAsync(o);
    if (k % 5 === 1) {
      if (!(await lock({ timeout: 1 }))) await lock();
    } else if (k % 5 === 3) {
      try {
        await lock({ signal: AbortSignal.timeout(1) });
      } catch {
        await lock();
      }
    } else await lock();
    if (write) {
      writeSection(s, k % 16 === 0);
      s.rw.writeUnlock();
      writes++;
    } else {
      readSection(s);
      s.rw.readUnlock();
      reads++;
    }
    if (k % 64 === 63) await new Promise((r) => setTimeout(r, 0));
  }
  return { writes, reads };
}
