/**
 * Worker half of the demo: one side of a ping-pong, either through two ManualResetEvents
 * (QEMU's S2 protocol) or through a hand-written Atomics.wait/notify loop (the baseline).
 */
import { parentPort, workerData } from "node:worker_threads";
import { ManualResetEvent } from "../../mod.ts";

interface Job {
  side: "ping" | "pong";
  mode: "raw" | "event";
  spin: number | undefined;
  rounds: number;
  sab: SharedArrayBuffer;
}

const job = workerData as Job;
const words = new Int32Array(job.sab); // raw: [0] ping→pong counter, [16] pong→ping counter
const A = 0, B = 16;
const LIMIT_MS = 10_000;

function rawWaitFor(i: number, r: number): void {
  // The hand-written loop users write: sleep while the word still holds what we saw.
  for (let v = Atomics.load(words, i); v !== r; v = Atomics.load(words, i)) {
    if (Atomics.wait(words, i, v, LIMIT_MS) === "timed-out") throw new Error("raw ping-pong stalled");
  }
}

function must(ok: boolean): void {
  if (!ok) throw new Error("event ping-pong stalled");
}

const t0 = performance.now();
if (job.mode === "raw") {
  for (let r = 1; r <= job.rounds; r++) {
    if (job.side === "ping") {
      Atomics.store(words, A, r);
      Atomics.notify(words, A);
      rawWaitFor(B, r);
    } else {
      rawWaitFor(A, r);
      Atomics.store(words, B, r);
      Atomics.notify(words, B);
    }
  }
} else {
  const opts = { spin: job.spin };
  const a = ManualResetEvent.from({ buffer: job.sab, byteOffset: 128 }, opts);
  const b = ManualResetEvent.from({ buffer: job.sab, byteOffset: 192 }, opts);
  for (let r = 1; r <= job.rounds; r++) {
    if (job.side === "ping") {
      b.reset();
      a.set();
      must(b.wait(LIMIT_MS));
    } else {
      must(a.wait(LIMIT_MS));
      a.reset();
      b.set();
    }
  }
}
parentPort!.postMessage({ ms: performance.now() - t0 });
