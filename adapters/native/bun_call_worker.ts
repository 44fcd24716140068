/**
 * Helper worker for Bun's async native waits (a web Worker): the first message names the library
 * and its symbols; every later message is one call, answered with `{ r }` or `{ error }`. The
 * calls are bounded wait slices (table.ts NATIVE_SLICE_MS), so a helper is never parked for long.
 *
 * @module
 */

type Defs = Record<string, { args: string[]; returns: string }>;
interface BunFfi {
  dlopen(path: string, defs: Defs): { symbols: Record<string, (...args: unknown[]) => unknown> };
}
interface WorkerScope {
  onmessage: ((event: { data: unknown }) => void) | null;
  postMessage(message: unknown): void;
}

const scope = globalThis as unknown as WorkerScope;
const req = (import.meta as unknown as { require: (id: string) => unknown }).require;
let fns: Record<string, (...args: unknown[]) => unknown> | undefined;

scope.onmessage = (event) => {
  if (fns === undefined) {
    const { library, defs } = event.data as { library: string; defs: Defs };
    fns = (req("bun:ffi") as BunFfi).dlopen(library, defs).symbols;
    return;
  }
  const { symbol, args } = event.data as { symbol: string; args: unknown[] };
  try {
    const r = fns[symbol](...args);
    scope.postMessage({ r: typeof r === "bigint" ? Number(r) : r });
  } catch (e) {
    scope.postMessage({ error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) });
  }
};
