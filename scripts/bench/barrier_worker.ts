/**
 * Worker of the benchmark's "barrier" section (scripts/bench/suite.ts): `rounds` barrier
 * round trips between 2 workers (n = 2), through the library's Barrier or through a raw
 * Atomics barrier written inline here (the same generation protocol, no checks, no spin).
 * Layout in `sab`: [0] start count, [16..] the Barrier's 8 bytes, [32] raw count, [33] raw generation.
 */

import { parentPort, workerData } from "node:worker_threads";
import { Barrier } from "../../mod.ts";

const { sab, mode, rounds, spin } = workerData as { sab: SharedArrayBuffer; mode: "barrier" | "raw"; rounds: number; spin?: number };
const i32 = new Int32Array(sab);
const RAW_COUNT = 32, RAW_GEN = 33;

/** The raw barrier: generation first, count up; the last resets the count, bumps the generation, notifies. */
function rawWait(): void {
  const g = Atomics.load(i32, RAW_GEN);
  if (Atomics.add(i32, RAW_COUNT, 1) === 1) {
    Atomics.store(i32, RAW_COUNT, 0);
    Atomics.store(i32, RAW_GEN, g + 1);
    Atomics.notify(i32, RAW_GEN);
  } else {
    while (Atomics.load(i32, RAW_GEN) === g) Atomics.wait(i32, RAW_GEN, g);
  }
}

const b = mode === "barrier" ? Barrier.from({ buffer: sab, byteOffset: 64, parties: 2 }, { spin }) : undefined;
Atomics.add(i32, 0, 1);
while (Atomics.load(i32, 0) < 2) Atomics.wait(i32, 0, Atomics.load(i32, 0), 1);
const t0 = performance.now();
if (b) for (let r = 0; r < rounds; r++) b.wait();
else for (let r = 0; r < rounds; r++) rawWait();
parentPort!.postMessage({ ms: performance.now() - t0 });
