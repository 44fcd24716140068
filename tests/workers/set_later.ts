/** Worker: attach to an event by handle, wait 20 ms, set it, report. */
import { parentPort, workerData } from "node:worker_threads";
import { ManualResetEvent } from "../../mod.ts";

const ev = ManualResetEvent.from(workerData.handle);
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
ev.set();
parentPort!.postMessage({ ok: true });
