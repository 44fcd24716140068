/**
 * Worker for the robust Mutex's several-sleepers tests (tests/robust.test.ts): attach to a
 * robust Mutex through this thread's native futex (slice `sliceMs`), report this thread's id,
 * then lock() — blocking, untimed — and report how it ended: { result: "locked" (the lock was
 * taken, and unlocked again before reporting) or the error's name, at: wall-clock ms }.
 */
import { parentPort, workerData } from "node:worker_threads";
import { Mutex } from "../../mod.ts";
import { loadNative } from "../../scripts/lib/native.ts";

const { handle, sliceMs } = workerData as { handle: never; sliceMs: number };
const native = await loadNative();
const futex = native.nativeFutex({ sliceMs });
const m = Mutex.from(handle, { futex });
const now = (): number => performance.timeOrigin + performance.now();

// A plain Mutex needs no owner identity (Windows has none to give: ownerLiveness() is refused there).
parentPort!.postMessage({ tid: m.handle.robust ? futex.ownerLiveness().tid : 0 });
try {
  m.lock();
  const at = now();
  m.unlock();
  parentPort!.postMessage({ result: "locked", at });
} catch (e) {
  parentPort!.postMessage({ result: (e as Error).name, at: now() });
}
