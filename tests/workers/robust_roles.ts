/**
 * Worker for the robust Mutex tests (tests/robust.test.ts): attach to a robust Mutex through
 * this thread's native futex and play one role.
 *   "hold":  lock, report { held, tid }, then stay alive until terminated (or, with
 *            `exitThread`, return from the worker's code so the thread ends holding the lock).
 *   "lock":  lock() (blocking), report when it returns (then unlock) or throws (then keep holding
 *            what an OwnerDiedError handed over): { result, at, ownerTid }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Mutex } from "../../mod.ts";
import { loadNative } from "../../scripts/lib/native.ts";

const { role, handle, sliceMs, exitThread } = workerData as {
  role: string;
  handle: never;
  sliceMs: number;
  exitThread?: boolean;
};
const native = await loadNative();
const m = Mutex.from(handle, { futex: native.nativeFutex({ sliceMs }) });
const now = (): number => performance.timeOrigin + performance.now();

if (role === "hold") {
  m.lock();
  parentPort!.postMessage({ held: true, tid: native.nativeFutex().ownerLiveness().tid, at: now() });
  if (!exitThread) setInterval(() => {}, 1000); // alive until terminated
  // else: nothing keeps the thread alive, so it ends by itself, still holding the lock
} else if (role === "lock") {
  parentPort!.postMessage({ waiting: true });
  try {
    m.lock();
    const at = now();
    m.unlock(); // before reporting: the test may terminate this worker as soon as it hears
    parentPort!.postMessage({ result: "locked", at });
  } catch (e) {
    const err = e as Error & { ownerTid?: number };
    parentPort!.postMessage({ result: err.name, at: now(), ownerTid: err.ownerTid, held: m.held });
  }
}
