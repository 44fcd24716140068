/**
 * Worker for tests/chaos.test.ts: for rounds 1…5, announce "asleep in round r" (word 1), sleep
 * while word 0 is r − 1, then — 5 ms of work later — write r into word 2. The work makes the
 * flag show whether the waker paused after its wake (a waker that goes on at once checks first).
 */
import { parentPort, workerData } from "node:worker_threads";

const i32 = new Int32Array(workerData.sab as SharedArrayBuffer);
for (let r = 1; r <= 5; r++) {
  Atomics.store(i32, 1, r);
  while (Atomics.load(i32, 0) === r - 1) Atomics.wait(i32, 0, r - 1, 5000);
  const t = performance.now();
  while (performance.now() - t < 5); // the woken side's work
  Atomics.store(i32, 2, r);
}
parentPort!.postMessage({ ok: true });
