/**
 * Entry of a helper worker (started by helper_host.ts): picks this runtime's FFI backend and runs
 * the helper loop (wait_helper.ts) until STOP, or until the owner's MessagePort closes (the owner
 * thread was terminated: Bun keeps nested workers running, so the helper must leave by itself).
 * A crash is reported to the owner as the worker's "error" event.
 *
 * @module
 */

import type { FfiBackend } from "./bind.ts";
import { runHelper } from "./wait_helper.ts";
import type { HelperInit } from "./wait_service.ts";

interface Port {
  on(event: "close", listener: () => void): void;
  unref(): void;
}

const WORKER_THREADS = "node:worker_threads"; // a variable: the npm build has no Node types
const { workerData } = (await import(WORKER_THREADS)) as { workerData: { init: HelperInit; port: Port } };
const { init, port } = workerData;
let ownerGone = false;
port.on("close", () => {
  ownerGone = true;
});
port.unref();

const g = globalThis as { Deno?: unknown; Bun?: unknown };
const backend: FfiBackend = g.Deno !== undefined
  ? (await import("./deno_backend.ts")).denoBackend
  : g.Bun !== undefined
  ? (await import("./bun_backend.ts")).bunBackend
  : (await import("./node_backend.ts")).nodeBackend;

await runHelper(init, {
  backend,
  stopped: () => ownerGone,
  pause: () => new Promise((resolve) => setTimeout(resolve, 0)),
});
// Returning ends the worker: nothing else is pending in it.
