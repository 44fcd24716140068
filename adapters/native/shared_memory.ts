/**
 * Shared memory for cross-process primitives, through the row's memory calls (table.ts),
 * runtime-neutral like bind.ts. A region gives a plain ArrayBuffer over the mapping (no runtime
 * can wrap foreign memory in a SharedArrayBuffer, so `Atomics.wait` refuses it) and the
 * cross-process native futex that every primitive placed in it must use.
 *
 * Two kinds:
 * - named (`openRegionWith`): `shm_open` + `fstat` + `posix_fallocate` (Linux; `ftruncate`
 *   elsewhere) + `mmap(MAP_SHARED)`. Other processes — Deno, Bun, or C calling `shm_open` on the
 *   same name, or mapping `/dev/shm/<name>` on Linux — see the same bytes. Anyone who can open
 *   the name can also truncate it, and a process touching a truncated page dies of SIGBUS.
 * - sealed (`createSealedRegionWith`, Linux): `memfd_create` + `ftruncate` + `posix_fallocate` +
 *   `fcntl(F_ADD_SEALS, SHRINK | GROW | SEAL)`; others open the holder's `/proc/<pid>/fd/<fd>`
 *   (`openSealedRegionWith`), and nobody can change its size.
 *
 * Every open checks, with `fstat`, that the file is a regular file of at least the asked size,
 * owned by this process's effective user and not writable by group or others (unless
 * `allowForeign`); names are checked as the OS sees them (UTF-8 bytes, no lone surrogates).
 *
 * Closing detaches the buffer first (later access throws instead of reading unmapped memory),
 * rejects pending async waits, then unmaps. If the user already moved the buffer away
 * (`transfer()`, a transfer list), the moved ArrayBuffer still points at the mapping: close then
 * maps private zero pages over it instead (never shared, never freed) so it cannot crash.
 *
 * @module
 */

import { type FfiBackend, type FfiLibrary, bindNativeFutex, type NativeFutex, openRow } from "./bind.ts";
import { SharedRegionPermissionError, UnsupportedPlatformError } from "./errors.ts";
import type { MemorySpec, NativeRow, SealSpec, StatLayout, SymbolSpec } from "./table.ts";
import { normalizeArch } from "./table.ts";
import { registerMapping, releaseMapping } from "../../core/word.ts";

/** How to open a named region. */
export interface SharedRegionOptions {
  /** Create the region if it does not exist (default false: it must exist). */
  create?: boolean;
  /** With `create`: fail if it already exists (default false). */
  exclusive?: boolean;
  /** The region futex's OS wait slice in milliseconds (see NativeFutexOptions.sliceMs). */
  sliceMs?: number;
  /**
   * Accept a region owned by another user or writable by group or others (default false:
   * SharedRegionPermissionError). Whoever can write it controls every word in it: pass true
   * only for a co-tenant you trust.
   */
  allowForeign?: boolean;
}

/** How to create or open a sealed region. */
export interface SealedRegionOptions {
  /** The region futex's OS wait slice in milliseconds (see NativeFutexOptions.sliceMs). */
  sliceMs?: number;
  /** Opening only: accept a region owned by another user (see SharedRegionOptions.allowForeign). */
  allowForeign?: boolean;
}

/** A mapped shared-memory region and the futex for words placed in it. */
export interface SharedRegion {
  /** The POSIX name, with its leading slash ("/my-region"); a sealed region's path. */
  readonly name: string;
  /** Mapped length in bytes. */
  readonly byteLength: number;
  /** A plain ArrayBuffer over the mapping: place primitives in it with `{ buffer, byteOffset, futex }`. */
  readonly buffer: ArrayBuffer;
  /** The cross-process native futex to pass as `futex` to every primitive in this region. */
  readonly futex: NativeFutex;
  /** True after {@link SharedRegion.close}. */
  readonly closed: boolean;
  /** Unmap: the buffer is detached, pending async waits reject with FutexClosedError. Idempotent, never throws. */
  close(): void;
  /** Remove the name (processes that mapped it keep their mapping). Missing names are ignored; a no-op for sealed regions. */
  unlink(): void;
  /** `using region = …` closes it. */
  [Symbol.dispose](): void;
}

/** A sealed region (Linux): its size is fixed for every process, so nobody can make a holder SIGBUS. */
export interface SealedRegion extends SharedRegion {
  /**
   * Where other processes of this user open it, `/proc/<pid>/fd/<fd>`: valid while this region
   * is open here (the descriptor stays open until `close()`).
   */
  readonly path: string;
}

const ERRNO_SYMBOL: Record<string, string> = {
  linux: "__errno_location",
  darwin: "__error",
  freebsd: "__error",
  openbsd: "__errno",
};
const ERRNO_NAMES: Record<number, string> = {
  1: "EPERM (operation not permitted)",
  2: "ENOENT (no such region: create it first, or pass { create: true })",
  12: "ENOMEM",
  13: "EACCES (permission denied)",
  17: "EEXIST (it already exists: drop { exclusive: true } to open it)",
  22: "EINVAL",
  24: "EMFILE (too many open files)",
  27: "EFBIG (larger than the file system allows: ask for fewer bytes)",
  28: "ENOSPC (no space left in /dev/shm: free space there, mount it larger, or ask for fewer bytes)",
  36: "ENAMETOOLONG",
};
const EINTR = 4;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const GROUP_OR_OTHER_WRITE = 0o022;

interface MemoryLib {
  lib: FfiLibrary;
  row: NativeRow;
  spec: MemorySpec;
  stat: StatLayout;
  errno: (() => number) | undefined;
}

const memoryLibs = new WeakMap<FfiBackend, MemoryLib>();

function memoryLib(backend: FfiBackend, fn: string): MemoryLib {
  const hit = memoryLibs.get(backend);
  if (hit) return hit;
  const { row } = openRow(backend);
  const arch = normalizeArch(backend.arch) as keyof MemorySpec["stat"];
  const stat = row.memory?.stat[arch];
  if (!row.memory || !stat) {
    throw new UnsupportedPlatformError(`${fn}: no cross-process shared memory on ${row.os}/${backend.arch}. ${row.noSharedReason ?? ""}`.trimEnd());
  }
  const errnoName = ERRNO_SYMBOL[row.os];
  const symbols: Record<string, SymbolSpec> = { ...row.memory.symbols };
  if (errnoName) symbols[errnoName] = { parameters: [], result: "pointer" };
  const lib = backend.open(row.memory.library, symbols);
  const errno = errnoName
    ? (): number => new Int32Array(backend.bufferAt(lib.callPointer(errnoName, []), 4))[0]
    : undefined;
  const m = { lib, row, spec: row.memory, stat, errno };
  memoryLibs.set(backend, m);
  return m;
}

/** The failure of a call that returns -1 and sets errno, as an Error naming the errno. */
function failer(m: MemoryLib, label: string): (what: string) => never {
  return (what: string): never => {
    const e = m.errno?.();
    const why = e === undefined ? "" : `: errno ${e} ${ERRNO_NAMES[e] ?? ""}`.trimEnd();
    throw new Error(`${label}: ${what} failed${why}`);
  };
}

/**
 * Call `f` with a pointer to `encoded` as a NUL-terminated C string. The bytes live in a
 * SharedArrayBuffer (never moved by the GC) that stays reachable until `f` has returned: a
 * pointer alone does not keep its buffer alive, and a buffer collected while the call still
 * uses it (or kept as a bare pointer for a later call) may hold another string by then — an
 * unlink that removed another region's name.
 */
function withCString<T>(backend: FfiBackend, encoded: Uint8Array, f: (ptr: unknown) => T): T {
  const bytes = new Uint8Array(new SharedArrayBuffer(encoded.length + 1));
  bytes.set(encoded);
  const r = f(backend.pointerTo(bytes, 0));
  if (bytes[encoded.length] !== 0) throw new Error("internal: a C string's terminator was overwritten during the call"); // reads bytes after the call: they were live throughout
  return r;
}

/** The syntactic checks of a name (no OS needed): a string, one component, well-formed UTF-16. */
function checkName(name: unknown, fn: string): string {
  if (typeof name !== "string") {
    throw new TypeError(`${fn}: name must be a string like "/my-region" (got ${name === null ? "null" : typeof name})`);
  }
  const n = name.startsWith("/") ? name : `/${name}`;
  if (n.length < 2 || n.indexOf("/", 1) !== -1 || n.includes("\0")) {
    throw new TypeError(`${fn}: name ${JSON.stringify(name)} must be one or more characters without "/" or NUL after an optional leading "/"`);
  }
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const high = c >= 0xd800 && c <= 0xdbff;
    const low = c >= 0xdc00 && c <= 0xdfff;
    const next = name.charCodeAt(i + 1);
    if (high && next >= 0xdc00 && next <= 0xdfff) {
      i++;
      continue;
    }
    if (high || low) {
      throw new TypeError(
        `${fn}: name ${JSON.stringify(name)} has a lone surrogate (U+${c.toString(16).toUpperCase()}) at index ${i}; ` +
          "the OS sees names as UTF-8, where it would turn into U+FFFD and name another region: use a well-formed string",
      );
    }
  }
  return n;
}

/** The name's UTF-8 bytes, refused when longer than this OS allows. */
function nameBytes(n: string, spec: MemorySpec, fn: string): Uint8Array {
  const bytes = new TextEncoder().encode(n);
  if (bytes.length - 1 > spec.nameMaxBytes) {
    throw new RangeError(
      `${fn}: name ${JSON.stringify(n)} is ${bytes.length - 1} UTF-8 bytes after the "/", more than the ${spec.nameMaxBytes} ` +
        "this OS allows for a shared-memory name: use a shorter name",
    );
  }
  return bytes;
}

function checkLength(byteLength: unknown, fn: string): number {
  if (typeof byteLength !== "number" || !Number.isInteger(byteLength) || byteLength < 4 || byteLength % 4 !== 0 || byteLength > 2 ** 30) {
    throw new RangeError(
      `${fn}: byteLength ${String(byteLength)} must be a whole multiple of 4 between 4 and 2^30 (one 32-bit word per primitive)`,
    );
  }
  return byteLength;
}

function checkOptions<T extends object>(options: T | undefined, fn: string, booleans: readonly (keyof T & string)[]): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== "object") {
    throw new TypeError(`${fn}: options must be an object like { ${booleans[0]}: true }`);
  }
  for (const k of booleans) {
    const v = options[k];
    if (v !== undefined && typeof v !== "boolean") throw new TypeError(`${fn}: ${k} must be true or false (got ${typeof v})`);
  }
  return options;
}

interface FileFacts {
  mode: number;
  uid: number;
  size: number;
}

/** `fstat` the descriptor: type and permission bits, owner, size. */
function fstatFd(backend: FfiBackend, m: MemoryLib, fd: number, fail: (what: string) => never): FileFacts {
  const buf = new Uint8Array(new SharedArrayBuffer(m.stat.size));
  if (m.lib.call("fstat", [fd, backend.pointerTo(buf, 0)]) !== 0) fail("fstat");
  const dv = new DataView(buf.buffer);
  return {
    mode: dv.getUint16(m.stat.st_mode, true),
    uid: dv.getUint32(m.stat.st_uid, true),
    size: Number(dv.getBigInt64(m.stat.st_size, true)),
  };
}

const octal = (mode: number): string => `0${(mode & 0o7777).toString(8)}`;

/** Refuse what is not a regular file, or (without allowForeign) not safely this user's. */
function checkTrusted(m: MemoryLib, facts: FileFacts, label: string, allowForeign: boolean, remedy: string): void {
  if ((facts.mode & S_IFMT) !== S_IFREG) {
    throw new SharedRegionPermissionError(
      `${label}: not a regular file (type 0${(facts.mode & S_IFMT).toString(8)}, mode ${octal(facts.mode)}): ` +
        `something other than a shared-memory region holds it; ${remedy}`,
    );
  }
  if (allowForeign) return;
  const euid = m.lib.call("geteuid", []);
  if (facts.uid !== euid || (facts.mode & GROUP_OR_OTHER_WRITE) !== 0) {
    throw new SharedRegionPermissionError(
      `${label}: owned by uid ${facts.uid} with mode ${octal(facts.mode)}, but a region must belong to this process's user ` +
        `(uid ${euid}) and not be writable by group or others, or someone else can change its words under you; ` +
        `${remedy}, or pass { allowForeign: true } if you trust its owner and everyone who can write it`,
    );
  }
}

/** Reserve `[0, len)` with posix_fallocate (which returns the error number itself). */
function reserve(m: MemoryLib, fd: number, len: number, label: string): void {
  let r: number;
  do r = m.lib.call("posix_fallocate", [fd, 0, len]); while (r === EINTR);
  if (r !== 0) {
    throw new Error(
      `${label}: cannot reserve ${len} bytes (${(len / 2 ** 20).toFixed(2)} MiB): posix_fallocate failed: errno ${r} ${ERRNO_NAMES[r] ?? ""}`.trimEnd(),
    );
  }
}

/** Map `len` bytes of `fd` shared, read-write. */
function mapFd(backend: FfiBackend, m: MemoryLib, fd: number, len: number, fail: (what: string) => never): unknown {
  const mapped = m.lib.callPointer("mmap", [null, len, m.spec.PROT_READ_WRITE, m.spec.MAP_SHARED, fd, 0]);
  const addr = backend.address(mapped);
  if (addr === 0n || addr === 0xffffffffffffffffn || addr === -1n) fail("mmap");
  return mapped;
}

/** The region object over a mapping; `fd` (sealed regions) is closed with it. */
function makeRegion(
  backend: FfiBackend,
  m: MemoryLib,
  parts: { name: string; len: number; mapped: unknown; futex: NativeFutex; fd?: number; unlink: () => void },
): SharedRegion {
  const { name, len, mapped, futex, fd } = parts;
  const { lib, spec } = m;
  let buffer = backend.bufferAt(mapped, len);
  registerMapping(buffer, { name, byteLength: len, sealed: fd !== undefined }); // primitives accept this buffer, never a copy of it
  let closed = false;
  const region: SharedRegion = {
    name,
    byteLength: len,
    get buffer(): ArrayBuffer {
      return buffer;
    },
    futex,
    get closed(): boolean {
      return closed;
    },
    close(): void {
      if (closed) return;
      closed = true;
      futex.close();
      // Detach our buffer so a stale view throws a TypeError instead of touching unmapped memory.
      // Detached already: the user moved it (transfer(), a transfer list) and the moved buffer
      // still points at the mapping, so it gets private zero pages in its place instead of a hole.
      const b = buffer as ArrayBuffer & { transfer?: (n: number) => ArrayBuffer };
      let moved = b.byteLength === 0;
      if (!moved && typeof b.transfer === "function") {
        try {
          buffer = b.transfer(0);
        } catch {
          moved = true;
        }
      }
      if (moved) lib.callPointer("mmap", [mapped, len, spec.PROT_READ_WRITE, spec.MAP_PRIVATE_ANON_FIXED, -1, 0]);
      else lib.call("munmap", [mapped, len]);
      if (fd !== undefined) lib.call("close", [fd]);
      releaseMapping(name);
    },
    unlink: parts.unlink,
    [Symbol.dispose](): void {
      region.close();
    },
  };
  return region;
}

/**
 * Open (and optionally create) a named shared-memory region of `byteLength` bytes.
 * Runtime-neutral: deno_ffi.ts and bun_ffi.ts export it bound to their backend.
 */
export function openRegionWith(backend: FfiBackend, name: unknown, byteLength: unknown, options?: SharedRegionOptions): SharedRegion {
  const fn = "openSharedRegion";
  const n = checkName(name, fn);
  const len = checkLength(byteLength, fn);
  const o = checkOptions(options, fn, ["create", "exclusive", "allowForeign"]);
  const create = o.create ?? false;
  const exclusive = o.exclusive ?? false;
  if (exclusive && !create) throw new TypeError(`${fn}: { exclusive: true } needs { create: true }`);
  // A row without shared memory (Windows) is UnsupportedPlatformError naming the reason first.
  const m = memoryLib(backend, fn);
  const futex = bindNativeFutex(backend, { crossProcess: true, sliceMs: o.sliceMs });
  const { lib, spec } = m;
  const cname = nameBytes(n, spec, fn); // encoded once; each call gets its own live C string
  const label = `${fn}(${JSON.stringify(n)})`;
  const fail = failer(m, label);
  const flags = spec.O_RDWR | (create ? spec.O_CREAT : 0) | (exclusive ? spec.O_EXCL : 0);
  const fd = withCString(backend, cname, (p) => lib.call("shm_open", [p, flags, 0o600]));
  if (fd < 0) fail("shm_open");
  let mapped: unknown;
  try {
    const facts = fstatFd(backend, m, fd, fail);
    checkTrusted(m, facts, label, o.allowForeign ?? false, `remove it (unlinkSharedRegion(${JSON.stringify(n)})) and create it again`);
    if (facts.size < len) {
      if (!create) {
        throw new RangeError(
          `${label}: the region has ${facts.size} bytes, fewer than the ${len} asked for; ` +
            "ask for at most its size, or open it with { create: true } to grow it",
        );
      }
      if (spec.grow === "posix_fallocate") reserve(m, fd, len, label);
      else if (lib.call("ftruncate", [fd, len]) !== 0) fail("ftruncate");
    }
    mapped = mapFd(backend, m, fd, len, fail);
  } finally {
    lib.call("close", [fd]);
  }
  return makeRegion(backend, m, {
    name: n,
    len,
    mapped,
    futex,
    unlink: (): void => void withCString(backend, cname, (p) => lib.call("shm_unlink", [p])),
  });
}

/** Remove a region's name (as `shm_unlink`); returns false if it did not exist. */
export function unlinkRegionWith(backend: FfiBackend, name: unknown): boolean {
  const fn = "unlinkSharedRegion";
  const n = checkName(name, fn);
  const m = memoryLib(backend, fn);
  return withCString(backend, nameBytes(n, m.spec, fn), (p) => m.lib.call("shm_unlink", [p])) === 0;
}

function sealSpec(m: MemoryLib, fn: string): SealSpec {
  if (m.spec.sealed) return m.spec.sealed;
  throw new UnsupportedPlatformError(
    `${fn}: sealed regions need Linux (memfd_create and file seals); ${m.row.os} has none. ` +
      "Use openSharedRegion(name, …) instead, which any process able to open the name can truncate",
  );
}

/**
 * Create a sealed region of `byteLength` bytes (Linux): an anonymous memfd, reserved and sealed
 * against shrinking and growing, that other processes of this user open by its `path`.
 */
export function createSealedRegionWith(backend: FfiBackend, byteLength: unknown, options?: SealedRegionOptions): SealedRegion {
  const fn = "createSealedRegion";
  const len = checkLength(byteLength, fn);
  const o = checkOptions(options, fn, ["allowForeign"]);
  const m = memoryLib(backend, fn);
  const futex = bindNativeFutex(backend, { crossProcess: true, sliceMs: o.sliceMs });
  const seal = sealSpec(m, fn);
  const { lib } = m;
  const label = `${fn}(${len})`;
  const fail = failer(m, label);
  const fd = withCString(backend, new TextEncoder().encode("futex-sync-region"), (p) => lib.call("memfd_create", [p, seal.MFD_FLAGS]));
  if (fd < 0) fail("memfd_create");
  let mapped: unknown;
  try {
    if (lib.call("fchmod", [fd, 0o600]) !== 0) fail("fchmod"); // a memfd starts 0777
    if (lib.call("ftruncate", [fd, len]) !== 0) fail("ftruncate");
    reserve(m, fd, len, label);
    if (lib.call("fcntl", [fd, seal.F_ADD_SEALS, seal.SEALS]) !== 0) fail("fcntl(F_ADD_SEALS)");
    mapped = mapFd(backend, m, fd, len, fail);
  } catch (e) {
    lib.call("close", [fd]);
    throw e;
  }
  const path = `/proc/${lib.call("getpid", [])}/fd/${fd}`;
  const region = makeRegion(backend, m, { name: path, len, mapped, futex, fd, unlink: () => {} });
  return Object.defineProperty(region, "path", { value: path, enumerable: true }) as SealedRegion;
}

/**
 * Open a sealed region by the path its holder gave (`region.path`), refusing a file that lacks
 * the seals (a named region, anything else) or is smaller than `byteLength`.
 */
export function openSealedRegionWith(backend: FfiBackend, path: unknown, byteLength: unknown, options?: SealedRegionOptions): SealedRegion {
  const fn = "openSealedRegion";
  if (typeof path !== "string" || !path.startsWith("/") || path.includes("\0")) {
    throw new TypeError(`${fn}: path must be the absolute path a sealed region's holder gave (region.path, "/proc/<pid>/fd/<fd>"); got ${JSON.stringify(path)}`);
  }
  const len = checkLength(byteLength, fn);
  const o = checkOptions(options, fn, ["allowForeign"]);
  const m = memoryLib(backend, fn);
  const futex = bindNativeFutex(backend, { crossProcess: true, sliceMs: o.sliceMs });
  const seal = sealSpec(m, fn);
  const { lib, spec } = m;
  const label = `${fn}(${JSON.stringify(path)})`;
  const fail = failer(m, label);
  const fd = withCString(backend, new TextEncoder().encode(path), (p) => lib.call("open", [p, spec.O_RDWR | seal.O_CLOEXEC]));
  if (fd < 0) fail("open (is its holder still running with the region open?)");
  let mapped: unknown;
  try {
    const facts = fstatFd(backend, m, fd, fail);
    checkTrusted(m, facts, label, o.allowForeign ?? false, "ask its holder for a sealed region made by your user");
    const seals = lib.call("fcntl", [fd, seal.F_GET_SEALS, 0]);
    if (seals < 0 || (seals & seal.SEALS) !== seal.SEALS) {
      throw new SharedRegionPermissionError(
        `${label}: not a sealed region (seals ${seals < 0 ? "unsupported" : `0x${seals.toString(16)}`}, need 0x${seal.SEALS.toString(16)}): ` +
          "its size could change under you; open it with createSealedRegion's path, or a named region with openSharedRegion",
      );
    }
    if (facts.size < len) {
      throw new RangeError(`${label}: the sealed region has ${facts.size} bytes, fewer than the ${len} asked for; ask for at most its size`);
    }
    mapped = mapFd(backend, m, fd, len, fail);
  } catch (e) {
    lib.call("close", [fd]);
    throw e;
  }
  const own = `/proc/${lib.call("getpid", [])}/fd/${fd}`;
  const region = makeRegion(backend, m, { name: path, len, mapped, futex, fd, unlink: () => {} });
  return Object.defineProperty(region, "path", { value: own, enumerable: true }) as SealedRegion;
}
