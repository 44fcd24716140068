/**
 * Runners of the Condition and RwLock benchmark sections (scripts/bench/suite.ts "cond" and
 * "rwlock"); the workers are scripts/bench/toolkit_worker.ts.
 *
 *   condPingPong   two workers take turns through a Mutex-guarded turn word and a condition:
 *                  ns per hand-off (notify → the other side wakes, re-locks, flips the turn)
 *   rwThroughput   4 readers + 1 writer (1 write per 100 operations) on one 1024-word record for
 *                  `ms`: ns per operation, under an RwLock or under one Mutex
 */
import { Worker } from "node:worker_threads";
import { Condition, Mutex, RwLock } from "../../mod.ts";
import { T, TOOLKIT_BYTES, type ToolkitJob } from "./toolkit_layout.ts";

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const workerUrl = new URL(`./toolkit_worker${ext}`, import.meta.url);

interface Report {
  ok: boolean;
  ms: number;
  ops: number;
  sleeps: number;
  wakes: number;
  error?: string;
}

async function run(sab: SharedArrayBuffer, jobs: ToolkitJob[], stopAfterMs?: number): Promise<Report[]> {
  const i32 = new Int32Array(sab);
  const workers = jobs.map((j) => new Worker(workerUrl, { workerData: j }));
  const reports = workers.map((w, k) =>
    new Promise<Report>((resolve, reject) => {
      w.once("message", (r: Report) => (r.ok ? resolve(r) : reject(new Error(`${jobs[k].kind}/${jobs[k].mode}: ${r.error}`))));
      w.once("error", reject);
    })
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const watchdog = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("benchmark workers did not finish within 60 s")), 60_000);
  });
  try {
    const start = (async () => {
      while (Atomics.load(i32, T.READY / 4) < jobs.length) await new Promise((r) => setTimeout(r, 2));
      Atomics.store(i32, T.GO / 4, 1);
      Atomics.notify(i32, T.GO / 4);
      if (stopAfterMs !== undefined) {
        await new Promise((r) => setTimeout(r, stopAfterMs));
        Atomics.store(i32, T.STOP / 4, 1);
      }
    })();
    return await Promise.race([Promise.all([start, ...reports]).then(() => Promise.all(reports)), watchdog]);
  } finally {
    clearTimeout(timer);
    for (const r of reports) r.catch(() => {});
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** Ping-pong through a condition: mode "lib" (Mutex + Condition), "raw" (inline Atomics), "v8". */
export async function condPingPong(mode: string, rounds: number, spin?: number): Promise<{ value: number }> {
  const sab = new SharedArrayBuffer(TOOLKIT_BYTES);
  if (mode === "lib") {
    new Mutex({ buffer: sab, byteOffset: T.MUTEX });
    new Condition({ buffer: sab, byteOffset: T.COND });
  }
  const A = Atomics as unknown as { Mutex?: new () => unknown; Condition?: new () => unknown };
  const mutex = mode === "v8" ? new A.Mutex!() : undefined;
  const cond = mode === "v8" ? new A.Condition!() : undefined;
  const jobs: ToolkitJob[] = ["ping", "pong"].map((side, index) => ({ kind: "cond", mode, side, sab, rounds, index, workers: 2, spin, mutex, cond }));
  const reports = await run(sab, jobs);
  return { value: (Math.max(...reports.map((r) => r.ms)) * 1e6) / (rounds * 2) };
}

/** 4 readers + 1 writer for `ms`: mode "rwlock" or "mutex". ns per operation (all workers). */
export async function rwThroughput(mode: string, ms: number, spin?: number): Promise<{ value: number; extra: Record<string, unknown> }> {
  const sab = new SharedArrayBuffer(TOOLKIT_BYTES);
  if (mode === "rwlock") new RwLock({ buffer: sab, byteOffset: T.RW });
  else new Mutex({ buffer: sab, byteOffset: T.MUTEX });
  const sides = ["reader", "reader", "reader", "reader", "writer"];
  const jobs: ToolkitJob[] = sides.map((side, index) => ({ kind: "rw", mode, side, sab, rounds: 0, index, workers: sides.length, spin }));
  const reports = await run(sab, jobs, ms);
  const ops = reports.reduce((a, r) => a + r.ops, 0);
  const writes = reports[4].ops;
  const per1k = (n: number): number => Math.round((n * 10000) / ops) / 10;
  return {
    value: (Math.max(...reports.map((r) => r.ms)) * 1e6) / ops,
    extra: {
      ops,
      writePercent: Math.round((1000 * writes) / ops) / 10,
      sleepsPer1k: per1k(reports.reduce((a, r) => a + r.sleeps, 0)),
      wakesPer1k: per1k(reports.reduce((a, r) => a + r.wakes, 0)),
    },
  };
}
