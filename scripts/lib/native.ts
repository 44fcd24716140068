/**
 * Native futexes for tests and benchmarks: whether this run can use them (and why not), and the
 * entry point of this runtime (`adapters/native/deno_ffi.ts`, `bun_ffi.ts` or, in Node ≥ 26,
 * `node_ffi.ts`: same API).
 */

import assert from "node:assert/strict";
import process from "node:process";
import { Mutex } from "../../mod.ts";
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
  : process.platform !== "linux" && process.platform !== "win32"
  ? `native tests execute on Linux and Windows (Wine) only (this is ${process.platform}); other OS rows are driven through the binder by tests/native_binder.test.ts`
  : false;

/** An environment variable, or undefined where reading it is refused (Deno without --allow-env). */
function envVar(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

/**
 * Set (FUTEX_TEST_NATIVE_ONLY) by the windows row: in the scenario files that mix Atomics-futex
 * and native scenarios, the Atomics ones are skipped there with this reason (they run in the
 * node, deno and bun rows, and under Wine would only re-test V8's and JavaScriptCore's
 * Atomics.wait at the cost of the row's time budget).
 */
export const atomicsOnlySkip: string | false = envVar("FUTEX_TEST_NATIVE_ONLY")
  ? "the windows row runs the native scenarios only: this Atomics-futex scenario runs in the node, deno and bun rows"
  : false;

/** Windows (the windows row runs it under Wine): WaitOnAddress, in-process only. */
export const onWindows: boolean = process.platform === "win32";

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

/** The process-private native futex's name on this OS (Linux: the futex syscall; Windows: WaitOnAddress). */
export const privateFutexName: string = onWindows ? "windows-waitonaddress" : "linux-futex";

/** What a test may need that Windows refuses: WaitOnAddress wakes only threads of its own process. */
export type WindowsRefusal = "cross-process" | "region" | "sealed" | "robust";

/**
 * On Windows, assert what a test that needs `what` gets instead — the library's refusal — and
 * return true, so the test ends there having checked the Windows behaviour; elsewhere false.
 * - "cross-process": `nativeFutex({ crossProcess: true })` is a TypeError naming WaitOnAddress's
 *   same-process limit;
 * - "region": `openSharedRegion` and `unlinkSharedRegion` are UnsupportedPlatformError (no
 *   cross-process shared memory on windows), as is the cross-process futex above;
 * - "sealed": `createSealedRegion` and `openSealedRegion` are UnsupportedPlatformError;
 * - "robust": `new Mutex({ robust: true, futex })` is UnsupportedPlatformError (no owner liveness
 *   check: Linux has tgkill), and `ownerLiveness()` too; a plain Mutex on the same futex works.
 */
export function refusedOnWindows(native: NativeApi, ...what: WindowsRefusal[]): boolean {
  if (!onWindows) return false;
  const sameProcess = /Windows has no cross-process futex: WaitOnAddress is woken only by threads of the same process/;
  const unsupported = (message: RegExp) => (e: unknown) =>
    (e as Error).name === "UnsupportedPlatformError" && message.test((e as Error).message);
  for (const w of what) {
    if (w === "cross-process" || w === "region") {
      assert.throws(() => native.nativeFutex({ crossProcess: true }), { name: "TypeError", message: sameProcess });
    }
    if (w === "region") {
      const name = `/futex-windows-${process.pid}`;
      assert.throws(() => native.openSharedRegion(name, 64, { create: true }), unsupported(/no cross-process shared memory on windows/));
      assert.throws(() => native.unlinkSharedRegion(name), unsupported(/no cross-process shared memory on windows/));
    }
    if (w === "sealed") {
      assert.throws(() => native.createSealedRegion(4096), unsupported(/windows/));
      assert.throws(() => native.openSealedRegion("/proc/1/fd/3", 4096), unsupported(/windows/));
    }
    if (w === "robust") {
      const f = native.nativeFutex();
      try {
        assert.throws(() => f.ownerLiveness(), unsupported(/liveness/));
        assert.throws(() => new Mutex({ robust: true, futex: f }), unsupported(/liveness/));
        const plain = new Mutex({ futex: f });
        plain.lock();
        plain.unlock();
      } finally {
        f.close();
      }
    }
  }
  return true;
}
