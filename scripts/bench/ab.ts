/**
 * A/B of a policy change: the contended jobs of two builds of this library, interleaved in one
 * run (repetition 1 of every variant, then repetition 2, …), each beside the hand-written
 * baseline. This is how the spin policies in core/spin.ts were kept or dropped
 * (docs/benchmarks.md, "Tuning").
 *
 *   lock2 / lock4   2 or 4 workers × (lock; counter++; unlock) for --ms: Drepper's naive 3-state
 *                   Atomics mutex, then Mutex and LockCnt of build A and of build B
 *   sem             producer → consumer through 64 slots: raw Atomics semaphores, then the
 *                   Semaphore of A and of B
 *
 * Usage: node build/scripts/bench/ab.js --a DIR --b DIR [--jobs lock2,lock4,sem] [--reps 7] [--ms 400] [--spin N]
 *        deno run -A scripts/bench/ab.ts …   |   bun scripts/bench/ab.ts …
 * DIR holds a build's entry module: a checkout's `build/` (its mod.js) for Node, or the checkout
 * itself (its mod.ts) for Deno and Bun. For example:
 *   git worktree add /tmp/before <rev> && (cd /tmp/before && ln -s "$PWD/../main/node_modules" && npx tsc -p .)
 * `--spin N` passes { spin: N } to every primitive (default: each build's own default).
 * Prints per variant the median ns per op, the min–max, the median of per-repetition ratios to
 * the baseline, and B ÷ A per primitive.
 */
import process from "node:process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { median } from "../lib/stats.ts";
import { naive } from "./naive.ts";

const W = 0, COUNTER = 16, ITEMS = 32, SLOTS = 48, GO = 64, STOP = 80; // word indices, 64 bytes apart
const CAPACITY = 64;
const LIMIT_MS = 20_000;

interface Job {
  kind: "lock" | "sem";
  /** "naive", or "Mutex" / "LockCnt" / "Semaphore" of the build at `lib`. */
  prim: string;
  lib?: string;
  side: string;
  sab: SharedArrayBuffer;
  items: number;
  spin?: number;
}

interface Lib {
  Mutex: { from(h: unknown, o?: unknown): { lock(t?: number): boolean; unlock(): void } };
  LockCnt: { from(h: unknown, o?: unknown): { lock(t?: number): boolean; unlock(): void } };
  Semaphore: { from(h: unknown, o?: unknown): { acquire(t?: number): boolean; release(): void } };
}

if (!isMainThread) await work(workerData as Job);
else await main();

async function work(job: Job): Promise<void> {
  const i32 = new Int32Array(job.sab);
  const stalled = (what: string): never => {
    throw new Error(`${job.prim} ${job.side}: ${what} stalled for ${LIMIT_MS} ms`);
  };
  const lib = job.lib ? (await import(job.lib)) as Lib : undefined;
  const opts = job.spin === undefined ? {} : { spin: job.spin };
  const at = (word: number) => ({ buffer: job.sab, byteOffset: word * 4 });
  let lock: () => void, unlock: () => void, acquire: (w: number) => void, release: (w: number) => void;
  if (job.prim === "naive") {
    const b = naive(i32, LIMIT_MS, stalled);
    lock = () => b.lock(W);
    unlock = () => b.unlock(W);
    acquire = (w) => b.acquire(w);
    release = (w) => b.release(w);
  } else if (job.kind === "lock") {
    const m = job.prim === "Mutex" ? lib!.Mutex.from(at(W), opts) : lib!.LockCnt.from(at(W), opts);
    lock = () => void (m.lock(LIMIT_MS) || stalled(`${job.prim}.lock`));
    unlock = () => m.unlock();
    acquire = release = () => {};
  } else {
    const sems = new Map([ITEMS, SLOTS].map((w) => [w, lib!.Semaphore.from(at(w), opts)]));
    acquire = (w) => void (sems.get(w)!.acquire(LIMIT_MS) || stalled("Semaphore.acquire"));
    release = (w) => sems.get(w)!.release();
    lock = unlock = () => {};
  }
  while (Atomics.load(i32, GO) === 0) Atomics.wait(i32, GO, 0, 100);
  const t0 = performance.now();
  let ops = 0;
  if (job.kind === "lock") {
    while (Atomics.load(i32, STOP) === 0) {
      for (let k = 0; k < 64; k++) {
        lock();
        i32[COUNTER]++; // plain: only mutual exclusion keeps it exact
        unlock();
      }
      ops += 64;
    }
  } else {
    const [from, to] = job.side === "producer" ? [SLOTS, ITEMS] : [ITEMS, SLOTS];
    for (; ops < job.items; ops++) {
      acquire(from);
      release(to);
    }
  }
  parentPort!.postMessage({ ops, ms: performance.now() - t0 });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      a: { type: "string" },
      b: { type: "string" },
      jobs: { type: "string", default: "lock2,lock4,sem" },
      reps: { type: "string", default: "7" },
      ms: { type: "string", default: "400" },
      items: { type: "string", default: "100000" },
      spin: { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help || !values.a || !values.b) {
    console.log("usage: ab --a DIR --b DIR [--jobs lock2,lock4,sem] [--reps 7] [--ms 400] [--items 100000] [--spin N]");
    process.exit(values.help ? 0 : 2);
  }
  const entry = (dir: string): string => {
    for (const f of ["mod.js", "mod.ts"]) if (existsSync(join(dir, f))) return pathToFileURL(resolve(dir, f)).href;
    throw new Error(`${dir} holds neither mod.js nor mod.ts`);
  };
  const libs = { A: entry(values.a), B: entry(values.b) };
  const reps = Number(values.reps), ms = Number(values.ms), items = Number(values.items);
  const spin = values.spin === undefined ? undefined : Number(values.spin);
  const script = new URL(import.meta.url);

  async function run(kind: "lock" | "sem", prim: string, lib: string | undefined, workers: number): Promise<number> {
    const sab = new SharedArrayBuffer(128 * 4);
    const i32 = new Int32Array(sab);
    if (kind === "sem") i32[SLOTS] = CAPACITY; // the same initial words for every variant
    const sides = kind === "sem" ? ["producer", "consumer"] : Array.from({ length: workers }, (_, k) => String(k));
    const ws = sides.map((side) => new Worker(script, { workerData: { kind, prim, lib, side, sab, items, spin } satisfies Job }));
    const reports = ws.map((w) =>
      new Promise<{ ops: number; ms: number }>((ok, fail) => {
        w.once("message", ok);
        w.once("error", fail);
      })
    );
    await new Promise((r) => setTimeout(r, 100)); // let every worker reach the start line
    Atomics.store(i32, GO, 1);
    Atomics.notify(i32, GO);
    if (kind === "lock") {
      await new Promise((r) => setTimeout(r, ms));
      Atomics.store(i32, STOP, 1);
    }
    const out = await Promise.all(reports);
    await Promise.all(ws.map((w) => w.terminate()));
    const total = kind === "lock" ? out.reduce((a, o) => a + o.ops, 0) : items;
    if (kind === "lock" && i32[COUNTER] !== (total | 0)) throw new Error(`${prim}: counter ${i32[COUNTER]} after ${total} acquisitions`);
    return (Math.max(...out.map((o) => o.ms)) * 1e6) / total;
  }

  for (const job of values.jobs!.split(",")) {
    const kind = job === "sem" ? "sem" : "lock";
    const workers = kind === "lock" ? Number(job.slice(4)) : 2;
    const prims = kind === "lock" ? ["Mutex", "LockCnt"] : ["Semaphore"];
    const variants: { name: string; prim: string; lib?: string }[] = [{ name: "naive (hand-written Atomics)", prim: "naive" }];
    for (const p of prims) for (const [tag, lib] of Object.entries(libs)) variants.push({ name: `${tag}: ${p}`, prim: p, lib });
    const samples = variants.map(() => [] as number[]);
    for (let r = 0; r < reps; r++) {
      for (const [i, v] of variants.entries()) samples[i].push(await run(kind, v.prim, v.lib, workers));
    }
    const per = (i: number, j: number): number => median(samples[i].map((x, k) => x / samples[j][k]));
    console.log(`\n${job} (${process.versions.bun ? "bun" : (globalThis as { Deno?: unknown }).Deno ? "deno" : "node"} ${reps} interleaved reps)`);
    for (const [i, v] of variants.entries()) {
      const s = samples[i];
      const ratio = i === 0 ? "" : `  ${per(i, 0).toFixed(2)}× naive`;
      const ab = v.name.startsWith("B:") ? `  B÷A ${per(i, i - 1).toFixed(2)}` : "";
      console.log(`  ${v.name.padEnd(30)} ${median(s).toFixed(1).padStart(7)} ns/op  (${Math.min(...s).toFixed(1)}–${Math.max(...s).toFixed(1)})${ratio}${ab}`);
    }
  }
  process.exit(0);
}
