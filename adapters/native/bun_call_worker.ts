/**
 * Helper worker for Bun's async native waits: opens the library given in workerData and runs
 * one call per message, posting back `{ r }` or `{ error }`. The calls are bounded wait slices
 * (table.ts NATIVE_SLICE_MS), so a helper is never parked for long and can always be stopped.
 *
 * @module
 */

import { parentPort, workerData } from "node:worker_threads";

interface Data {
  library: string;
  defs: Record<string, { args: string[]; returns: string }>;
}

const { library, defs } = workerData as Data;
const { dlopen } = (import.meta as unknown as { require: (id: string) => { dlopen: (p: string, d: Data["defs"]) => { symbols: Record<string, (...a: unknown[]) => unknown> } } })
  .require("bun:ffi");
const fns = dlopen(library, defs).symbols;

parentPort!.on("message", ({ symbol, args }: { symbol: string; args: unknown[] }) => {
  try {
    const r = fns[symbol](...args);
    parentPort!.postMessage({ r: typeof r === "bigint" ? Number(r) : r });
  } catch (e) {
    parentPort!.postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
});
