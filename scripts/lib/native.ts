/**
 * Native futexes for tests and benchmarks: whether this run can use them (and why not), and the
 * entry point of this runtime (`adapters/native/deno_ffi.ts`, `bun_ffi.ts` or, in Node ≥ 26,
 * `node_ffi.ts`: same API).
 */

import process from "node:process";
import { runtime } from "./runtime.ts";

/** The API every native entry point exports. */
export type NativeApi = typeof import("../../adapters/native/deno_ffi.ts");

/** This Node's major version (0 outside Node). */
export const nodeMajor: number = runtime === "node" ? Number(process.versions.node.split(".")[0]) : 0;

/** Whether node:ffi can be loaded here (Node ≥ 26, not disabled by --no-experimental-ffi). */
function nodeFfiLoads(): boolean {
  const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
  return typeof get === "function" && get("node:ffi") !== undefined;
}

/** Why native tests cannot run here, or false when they can. Printed as the skip reason. */
export const nativeSkip: string | false = runtime === "node" && nodeMajor < 26
  ? `native futexes in Node are bound through node:ffi, which needs Node >= 26 (this is ${process.versions.node}); these tests run in the node26, deno and bun rows`
  : runtime === "node" && !nodeFfiLoads()
  ? `node:ffi is not available in this Node ${process.versions.node} (--no-experimental-ffi?)`
  : process.platform !== "linux"
  ? `native tests execute on Linux only (this is ${process.platform}); other OS rows are driven through the binder by tests/native_binder.test.ts`
  : false;

/** This runtime's native entry point. */
export async function loadNative(): Promise<NativeApi> {
  if (runtime === "deno") return await import("../../adapters/native/deno_ffi.ts");
  if (runtime === "bun") return (await import("../../adapters/native/bun_ffi.ts")) as NativeApi;
  if (nodeMajor >= 26) return (await import("../../adapters/native/node_ffi.ts")) as NativeApi;
  throw new Error(nativeSkip || "no native futex in this runtime");
}

/** This runtime's FFI backend of the binder (for measuring the bare FFI call). */
export async function loadBackend(): Promise<import("../../adapters/native/bind.ts").FfiBackend> {
  if (runtime === "deno") return (await import("../../adapters/native/deno_backend.ts")).denoBackend;
  if (runtime === "bun") return (await import("../../adapters/native/bun_backend.ts")).bunBackend;
  if (nodeMajor >= 26) return (await import("../../adapters/native/node_backend.ts")).nodeBackend;
  throw new Error(nativeSkip || "no native futex in this runtime");
}
