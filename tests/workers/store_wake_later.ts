/**
 * Worker: raise a ready flag, wait `delayMs`, then store `value` into word `index` of `sab` and
 * wake `count` sleepers there with Atomics.notify; report.
 */
import { parentPort, workerData } from "node:worker_threads";

const { sab, index, value, delayMs, count, readyIndex } = workerData as {
  sab: SharedArrayBuffer;
  index: number;
  value: number;
  delayMs: number;
  count: number;
  readyIndex: number;
};
const i32 = new Int32Array(sab);
Atomics.store(i32, readyIndex, 1);
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delayMs);
Atomics.store(i32, index, value);
const woke = Atomics.notify(i32, index, count);
parentPort!.postMessage({ ok: true, woke });
