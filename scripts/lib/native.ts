/**
 * Native futexes for tests and benchmarks: whether this run can use them (and why not), and the
 * entry point of this runtime (`adapters/native/deno_ffi.ts` or `bun_ffi.ts`, same API).
 */

import process from "node:process";
import { runtime } from "./runtime.ts";

/** The API both native entry points export. */
export type NativeApi = typeof import("../../adapters/native/deno_ffi.ts");

/** Why native tests cannot run here, or false when they can. Printed as the skip reason. */
export const nativeSkip: string | false = runtime === "node"
  ? "native futexes are bound through Deno FFI or bun:ffi (Node 20 has no FFI); these tests run in the deno and bun rows"
  : process.platform !== "linux"
  ? `native tests execute on Linux only (this is ${process.platform}); other OS rows are driven through the binder by tests/native_binder.test.ts`
  : false;

/** This runtime's native entry point. */
export async function loadNative(): Promise<NativeApi> {
  if (runtime === "deno") return await import("../../adapters/native/deno_ffi.ts");
  if (runtime === "bun") return (await import("../../adapters/native/bun_ffi.ts")) as NativeApi;
  throw new Error(nativeSkip || "no native futex in this runtime");
}
