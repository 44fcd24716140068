/**
 * Worker: attach to a primitive by handle, take what another thread will wait for (lock the
 * Mutex / LockCnt), report "held", then after `holdMs` release it (unlock, release a permit,
 * set the event) and report "released" with the time.
 */
import { parentPort, workerData } from "node:worker_threads";
import { LockCnt, ManualResetEvent, Mutex, Semaphore } from "../../mod.ts";

const { kind, handle, holdMs } = workerData as { kind: string; handle: never; holdMs: number };
const sleep = (ms: number): void => void Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

let release: () => void;
if (kind === "Mutex") {
  const m = Mutex.from(handle);
  m.lock();
  release = () => m.unlock();
} else if (kind === "LockCnt") {
  const lc = LockCnt.from(handle);
  lc.lock();
  release = () => lc.unlock();
} else if (kind === "Semaphore") {
  const s = Semaphore.from(handle);
  release = () => s.release();
} else {
  const ev = ManualResetEvent.from(handle);
  release = () => ev.set();
}
parentPort!.postMessage({ held: true });
sleep(holdMs);
release();
parentPort!.postMessage({ released: performance.now() + performance.timeOrigin });
