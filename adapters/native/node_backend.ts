/**
 * The node:ffi backend of the binder (bind.ts): `dlopen`, pointers (raw addresses as bigint) and
 * helper threads for async waits. Used by node_ffi.ts and by the helper worker itself
 * (wait_helper_worker.ts).
 *
 * node:ffi ships with Node 26.9 (experimental: enabled by default, with an ExperimentalWarning the
 * first time it is loaded; `--disable-warning=ExperimentalWarning` silences it). Its 64-bit
 * integer parameters take only BigInts in 26.9 and 26.10 ("Argument 2 must be a uint64" for a
 * number; 26.12 takes numbers too), so every i64/u64 argument is passed as a BigInt. It is missing
 * before 26 and under `--no-experimental-ffi`, and the permission model (`--permission`) refuses
 * it without `--allow-ffi`: each case throws FfiPermissionError naming the version or the flag.
 *
 * @module
 */

import type { FfiBackend, FfiLibrary } from "./bind.ts";
import type { NativeType, SymbolSpec } from "./table.ts";
import { FfiPermissionError } from "./errors.ts";
import { startWorkerHelper } from "./helper_host.ts";

/** The slice of `node:ffi` this layer uses (declared here: the package builds without Node's types). */
interface NodeFfi {
  dlopen(
    path: string | null,
    definitions: Record<string, { arguments: string[]; return: string }>,
  ): { functions: Record<string, (...args: unknown[]) => unknown> };
  getRawPointer(source: ArrayBufferLike): bigint;
  toArrayBuffer(pointer: bigint, length: number, copy: boolean): ArrayBuffer;
  getInt32(pointer: bigint, offset?: number): number;
}

interface NodeProcess {
  versions: { node?: string };
  platform: string;
  arch: string;
  getBuiltinModule?(id: string): unknown;
}

/** The lowest Node release line with node:ffi. */
export const NODE_FFI_MIN_MAJOR = 26;
/** The first minor release of that line with node:ffi (26.0 to 26.8 have none). */
export const NODE_FFI_MIN_MINOR = 9;

function nodeProcess(): NodeProcess {
  const g = globalThis as { process?: NodeProcess; Deno?: unknown; Bun?: unknown };
  if (g.Deno !== undefined || g.Bun !== undefined || g.process?.versions?.node === undefined) {
    throw new TypeError(
      "@futex/sync/node runs only in Node (node:ffi); in Deno import @futex/sync/deno, in Bun @futex/sync/bun (or @futex/sync/native in any of them)",
    );
  }
  return g.process;
}

let ffiModule: NodeFfi | undefined;

/** node:ffi, or an FfiPermissionError saying which Node release or flag it needs. */
function ffi(): NodeFfi {
  if (ffiModule) return ffiModule;
  const p = nodeProcess();
  const version = p.versions.node!;
  const [major, minor] = version.split(".").map(Number);
  if (major < NODE_FFI_MIN_MAJOR || (major === NODE_FFI_MIN_MAJOR && minor < NODE_FFI_MIN_MINOR)) {
    const min = `${NODE_FFI_MIN_MAJOR}.${NODE_FFI_MIN_MINOR}`;
    throw new FfiPermissionError(
      `native futexes in Node need node:ffi, which Node ${min} introduced; this is Node ${version}: ` +
        `upgrade to Node >= ${min} (or use the default Atomics futex, which needs no FFI)`,
    );
  }
  const m = p.getBuiltinModule?.("node:ffi") as NodeFfi | undefined;
  if (m === undefined) {
    throw new FfiPermissionError(
      `node:ffi is not available in this Node ${version}: it was disabled with --no-experimental-ffi ` +
        `(remove that flag from the command line and NODE_OPTIONS), or this build of Node lacks FFI support`,
    );
  }
  return (ffiModule = m);
}

/** Run `fn`, turning the permission model's refusal into an FfiPermissionError naming --allow-ffi. */
function permission<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if ((e as { code?: string })?.code === "ERR_ACCESS_DENIED") {
      throw new FfiPermissionError(
        `${what}: the Node permission model refuses FFI; run with --allow-ffi beside --permission ` +
          `(for example \`node --permission --allow-ffi --allow-fs-read=* main.js\`)`,
        { cause: e },
      );
    }
    throw e;
  }
}

const TYPE: Record<NativeType, string> = { i32: "int32", u32: "uint32", i64: "int64", u64: "uint64", pointer: "pointer", void: "void" };

/**
 * The argument converter of each parameter: a BigInt for i64/u64 (the only form every 26.x with
 * node:ffi accepts), the value itself otherwise.
 */
function encoder(t: NativeType): ((v: unknown) => unknown) | undefined {
  return t === "i64" || t === "u64" ? (v) => (typeof v === "bigint" ? v : BigInt(v as number)) : undefined;
}

/** Wrap `fn` so its 64-bit integer arguments reach node:ffi as BigInts. */
function encoded(fn: (...args: unknown[]) => unknown, parameters: readonly NativeType[]): (...args: unknown[]) => unknown {
  const encoders = parameters.map(encoder);
  if (encoders.every((e) => e === undefined)) return fn;
  return (...args) => fn(...args.map((a, i) => (encoders[i] ? encoders[i]!(a) : a)));
}

function toNumber(v: unknown): number {
  return typeof v === "bigint" ? Number(v) : (v as number);
}

/** The raw address of `view`'s first byte (its buffer's address plus its offset). */
function addressOf(view: ArrayBufferView): bigint {
  // `.buffer` moves a small on-heap typed array to a stable off-heap store first.
  return ffi().getRawPointer(view.buffer) + BigInt(view.byteOffset);
}

/** The node:ffi backend of the binder. */
export const nodeBackend: FfiBackend = {
  runtime: "node-ffi",
  get os(): string {
    return nodeProcess().platform;
  },
  get arch(): string {
    return nodeProcess().arch;
  },
  open(library: string, symbols: Readonly<Record<string, SymbolSpec>>): FfiLibrary {
    const f = ffi();
    const defs: Record<string, { arguments: string[]; return: string }> = {};
    for (const [name, s] of Object.entries(symbols)) defs[name] = { arguments: s.parameters.map((t) => TYPE[t]), return: TYPE[s.result] };
    const raw = permission(`node:ffi dlopen("${library}")`, () => f.dlopen(library, defs)).functions;
    const fns: Record<string, (...args: unknown[]) => unknown> = {};
    for (const [name, s] of Object.entries(symbols)) fns[name] = encoded(raw[name], s.parameters);
    return {
      call: (symbol, args) => toNumber(fns[symbol](...args)),
      callPointer: (symbol, args) => fns[symbol](...args),
    };
  },
  pointerTo(view: Int32Array | BigInt64Array | Uint8Array, index: number): unknown {
    return permission("node:ffi getRawPointer", () => addressOf(view)) + BigInt(index * view.BYTES_PER_ELEMENT);
  },
  bufferAt(pointer: unknown, length: number): ArrayBuffer {
    return ffi().toArrayBuffer(pointer as bigint, length, false);
  },
  address(pointer: unknown): bigint {
    return pointer === null || pointer === undefined ? 0n : BigInt(pointer as bigint);
  },
  pointerAt(address: bigint): unknown {
    return address;
  },
  load32(pointer: unknown): number {
    return ffi().getInt32(pointer as bigint, 0);
  },
  startHelper: startWorkerHelper,
};
