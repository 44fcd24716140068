/**
 * Worker: the second sleeper ("B") of tests/give_up_batons.test.ts, blocking. Attaches to the
 * primitive by handle (Atomics futex, spin 0), raises its ready flag,
 * makes one blocking call with a timeout, releases what it got, and reports how long it took.
 */
import { parentPort, workerData } from "node:worker_threads";
import { atomicsFutex, LockCnt, Mutex, RwLock, Semaphore } from "../../mod.ts";

const { kind, handle, timeoutMs, flags } = workerData as {
  kind: "Mutex" | "Semaphore" | "LockCnt" | "RwLock";
  handle: never;
  timeoutMs: number;
  flags: SharedArrayBuffer;
};
const o = { futex: atomicsFutex, spin: 0 };
const ops: Record<typeof kind, () => [() => boolean, () => void]> = {
  Mutex: () => {
    const m = Mutex.from(handle, o);
    return [() => m.lock(timeoutMs), () => m.unlock()];
  },
  Semaphore: () => {
    const s = Semaphore.from(handle, o);
    return [() => s.acquire(timeoutMs), () => {}];
  },
  LockCnt: () => {
    const lc = LockCnt.from(handle, o);
    return [() => lc.lock(timeoutMs), () => lc.unlock()];
  },
  RwLock: () => {
    const rw = RwLock.from(handle, o);
    return [() => rw.writeLock(timeoutMs), () => rw.writeUnlock()];
  },
};
const [call, undo] = ops[kind]();
const f = new Int32Array(flags);
Atomics.store(f, 0, 1); // about to block
const t0 = performance.now();
const got = call();
const ms = performance.now() - t0;
Atomics.store(f, 1, Math.round(ms));
if (got) undo();
parentPort!.postMessage({ ok: true, got, ms });
