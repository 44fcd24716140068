/**
 * Starting a helper thread for async native waits (Deno, Bun and Node alike): a `node:worker_threads`
 * Worker running wait_helper_worker.ts, unref'd at once so it never keeps the process alive.
 *
 * Why node:worker_threads: a Deno web Worker keeps the process alive for as long as it exists
 * (measured: a worker blocked in an FFI call, or idle, holds `deno run` open), and has no
 * `unref()`; the node:worker_threads Worker of Deno and Bun has one, inherits the parent's
 * permissions (Deno: FFI), and runs a .ts module in both.
 *
 * Lifetime: the helper returns to its event loop every POLL_MS (wait_helper.ts). If its owner
 * thread is terminated, Deno terminates the nested worker at that point; Bun does not, but closes
 * the MessagePort the owner kept (port1 below) — the helper sees "close" and exits. Either way an
 * orphaned helper is gone within about POLL_MS.
 *
 * @module
 */

import { FfiPermissionError } from "./errors.ts";
import type { HelperHandle, HelperInit } from "./wait_service.ts";

/** The slice of `node:worker_threads` used here (declared: the package builds without Node's types). */
interface Port {
  unref(): void;
  close(): void;
}
interface NodeWorker {
  on(event: "error", listener: (e: unknown) => void): void;
  on(event: "exit", listener: () => void): void;
  unref(): void;
  terminate(): Promise<number>;
}
interface WorkerThreads {
  Worker: new (url: URL, options: { workerData: unknown; transferList: unknown[] }) => NodeWorker;
  MessageChannel: new () => { port1: Port; port2: Port };
}
// Loaded once, at module load (Deno and Bun both provide it); a variable specifier keeps the
// npm build free of Node's type declarations.
const WORKER_THREADS = "node:worker_threads";
const { MessageChannel, Worker } = (await import(WORKER_THREADS)) as WorkerThreads;

const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const entry = new URL(`./wait_helper_worker${ext}`, import.meta.url);

/** Deno refuses to load the helper's modules without read access: say which flag fixes it. */
function explain(e: unknown): Error {
  const err = e instanceof Error ? e : new Error(String(e));
  if (/Requires (read|import) access/.test(err.message)) {
    const dir = entry.protocol === "file:" ? decodeURIComponent(new URL("../..", entry).pathname) : entry.href;
    return new FfiPermissionError(
      `async native waits run in a helper worker whose modules Deno must load: run with --allow-read=${dir} ` +
        `(or --allow-read, or -A); blocking waits (wait()) work without it (${err.message})`,
      { cause: err },
    );
  }
  return err;
}

/** Start one helper worker for `init`. */
export function startWorkerHelper(init: HelperInit): HelperHandle {
  const { port1, port2 } = new MessageChannel();
  let worker: NodeWorker;
  try {
    worker = new Worker(entry, { workerData: { init, port: port2 }, transferList: [port2] });
  } catch (e) {
    port1.close();
    throw explain(e);
  }
  worker.unref();
  port1.unref();
  const listeners: ((error?: Error) => void)[] = [];
  let exited = false;
  let failure: Error | undefined;
  const exit = (): void => {
    if (exited) return;
    exited = true;
    port1.close();
    for (const l of listeners) l(failure);
  };
  worker.on("error", (e: unknown) => {
    failure = explain(e);
    exit();
  });
  worker.on("exit", exit);
  return {
    onExit(listener) {
      if (exited) listener(failure);
      else listeners.push(listener);
    },
    terminate() {
      Atomics.store(new Int32Array(init.sab), 3, 1); // STOP: a helper blocked in the OS sees it within POLL_MS
      void worker.terminate();
    },
  };
}
