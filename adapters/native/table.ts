/**
 * The per-OS futex calls as data. A row names the library to open, the C signatures of the
 * symbols it uses, and how a wait, a wake-one and a wake-all are spelled as calls: which symbol,
 * and for each argument a constant or a placeholder ("word", "expected", "timeout", …) that the
 * binder fills in. Nothing here calls anything: `bind.ts` turns a row into a Futex, and the two
 * thin layers (`deno_ffi.ts`, `bun_ffi.ts`) only say how their runtime opens a library and makes
 * a pointer. A new OS is a new row.
 *
 * Every wait is a bounded slice (the binder passes at most {@link NATIVE_SLICE_MS}); the binder
 * never trusts a return code beyond "did it report a wake": after any other return it re-reads
 * the word and its own monotonic clock, so errno is never needed for a single-word wait. A row's
 * optional `waitv` describes a multi-word wait for async waits (wait_service.ts); rows without it
 * serve async waits with helpers taking turns on their single-word `wait`.
 *
 * Every row is executed through the binder against a recording fake FFI that pretends to be its
 * OS (tests/native_binder.test.ts, which restates each row's man page beside the calls it
 * expects); only linux-x86_64 also runs against a real kernel on this project's CI.
 *
 * @module
 */

import { UnsupportedPlatformError } from "./errors.ts";

/** C types the binder understands (64-bit hosts only: `size_t` is `u64`, pointers are 8 bytes). */
export type NativeType = "i32" | "u32" | "i64" | "u64" | "pointer" | "void";

/** The C signature of one symbol. */
export interface SymbolSpec {
  /** Parameter types, in order. */
  readonly parameters: readonly NativeType[];
  /** Return type. */
  readonly result: NativeType;
}

/**
 * One argument of a call:
 * - a number: that constant;
 * - `"word"`: a pointer to the 32-bit word;
 * - `"expected"`: the value the word must still hold for the wait to sleep;
 * - `"compare"`: a pointer to a copy of `expected` (WaitOnAddress compares memory with memory);
 * - `"timeout"`: the slice, encoded as the call's `timeout` says;
 * - `"timeout-size"`: the byte size of the timeout structure, 24 = sizeof(struct _umtx_time) (FreeBSD passes it in `uaddr`, a pointer-sized integer);
 * - `"null"`: a null pointer.
 */
export type ArgSpec = number | "word" | "expected" | "compare" | "timeout" | "timeout-size" | "null";

/** A wake: one symbol called with these arguments. */
export interface CallSpec {
  /** The symbol to call (declared in the row's `symbols`). */
  readonly symbol: string;
  /** One entry per parameter: a constant or a placeholder the binder fills in. */
  readonly args: readonly ArgSpec[];
}

/**
 * How the slice length is passed:
 * - `"timespec"`: pointer to a relative `{ i64 tv_sec; i64 tv_nsec }`;
 * - `"umtx_time"`: pointer to FreeBSD's `{ timespec _timeout; u32 _flags; u32 _clockid }` (relative, CLOCK_MONOTONIC);
 * - `"ms"`, `"us"`, `"ns"`: an integer count of that unit.
 */
export type TimeoutEncoding = "timespec" | "umtx_time" | "ms" | "us" | "ns";

/** A wait: the call, how its timeout is encoded, and which return value reports a wake. */
export interface WaitSpec extends CallSpec {
  /** How the `"timeout"` argument encodes the slice. */
  readonly timeout: TimeoutEncoding;
  /** `"zero"`: 0 is a wake (Linux, BSDs, ulock); `"nonzero"`: TRUE is a wake (Windows); `"non-negative"`: ≥ 0 (os_sync). */
  readonly woke: "zero" | "nonzero" | "non-negative";
}

/** The three calls of one futex flavour (process-private or cross-process). */
export interface FlavorSpec {
  /** Futex name for messages and benchmark tables: "linux-futex", "linux-futex-shared", … */
  readonly name: string;
  /** Sleep while the word holds the expected value, for at most one slice. */
  readonly wait: WaitSpec;
  /** Wake at most one sleeper. */
  readonly wakeOne: CallSpec;
  /** Wake every sleeper. */
  readonly wakeAll: CallSpec;
}

/**
 * Where `fstat` writes the fields a region checks, in this OS's `struct stat` (64-bit
 * little-endian hosts: `st_mode` is read as its low 16 bits, which hold the type and permissions
 * whether `mode_t` is 16 or 32 bits wide).
 */
export interface StatLayout {
  /** sizeof(struct stat): the buffer handed to `fstat`. */
  readonly size: number;
  /** Offset of `st_mode` (file type and permission bits). */
  readonly st_mode: number;
  /** Offset of `st_uid` (owner, 32 bits). */
  readonly st_uid: number;
  /** Offset of `st_size` (length in bytes, 64 bits). */
  readonly st_size: number;
}

/**
 * Linux sealed regions: `memfd_create` + `posix_fallocate` + `fcntl(F_ADD_SEALS)`, opened by other
 * processes through the holder's `/proc/<pid>/fd/<fd>` (memfd_create(2), fcntl(2) "File Sealing").
 */
export interface SealSpec {
  /** memfd_create(2) flags: MFD_CLOEXEC | MFD_ALLOW_SEALING. */
  readonly MFD_FLAGS: number;
  /** open(2) flag: close on exec. */
  readonly O_CLOEXEC: number;
  /** fcntl(2) command: add seals. */
  readonly F_ADD_SEALS: number;
  /** fcntl(2) command: read the seals. */
  readonly F_GET_SEALS: number;
  /** The seals a sealed region carries: F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL. */
  readonly SEALS: number;
}

/**
 * POSIX shared memory: `shm_open` + `fstat` + `ftruncate` (or `posix_fallocate`) +
 * `mmap(MAP_SHARED)`, and the constants and layouts they take.
 */
export interface MemorySpec {
  /** Library holding the calls. */
  readonly library: string;
  /** shm_open, shm_unlink, ftruncate, fstat, geteuid, mmap, munmap, close (and the Linux extras). */
  readonly symbols: Readonly<Record<string, SymbolSpec>>;
  /** open(2) flag: read and write. */
  readonly O_RDWR: number;
  /** open(2) flag: create if missing. */
  readonly O_CREAT: number;
  /** open(2) flag: fail if it exists (with O_CREAT). */
  readonly O_EXCL: number;
  /** PROT_READ | PROT_WRITE. */
  readonly PROT_READ_WRITE: number;
  /** mmap(2) flag: share the mapping with other processes. */
  readonly MAP_SHARED: number;
  /**
   * mmap(2) flags MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED: what `close()` maps over a region whose
   * buffer the user transferred, so the moved ArrayBuffer never points at unmapped memory.
   */
  readonly MAP_PRIVATE_ANON_FIXED: number;
  /** `struct stat` of this row's `fstat`, per architecture. */
  readonly stat: Readonly<Partial<Record<NativeArch, StatLayout>>>;
  /**
   * How a region being created or grown gets its pages: `"posix_fallocate"` reserves them (a full
   * /dev/shm is ENOSPC at open instead of SIGBUS at first touch); `"ftruncate"` only sets the size.
   */
  readonly grow: "posix_fallocate" | "ftruncate";
  /** Longest name, in UTF-8 bytes after the leading slash. */
  readonly nameMaxBytes: number;
  /** Sealed regions (Linux only). */
  readonly sealed?: SealSpec;
}

/** The operating systems a row can describe (names as in `Deno.build.os` / `process.platform`). */
export type NativeOs = "linux" | "windows" | "darwin" | "freebsd" | "openbsd";
/** The 64-bit architectures a row can describe (names as in `Deno.build.arch`). */
export type NativeArch = "x86_64" | "aarch64";

/** One OS (and architecture) with its futex calls. */
export interface NativeRow {
  /** `"linux-x86_64"`, `"darwin-os_sync"`, … */
  readonly id: string;
  /** The operating system. */
  readonly os: NativeOs;
  /** Architectures the row applies to. */
  readonly arch: readonly NativeArch[];
  /** Library to open: a soname, an absolute path or a DLL name. */
  readonly library: string;
  /** C signatures of every symbol the calls use. */
  readonly symbols: Readonly<Record<string, SymbolSpec>>;
  /** Waits and wakes that reach only threads of this process (faster where the OS has a private flag). */
  readonly private: FlavorSpec;
  /** Waits and wakes that reach other processes mapping the same memory; absent where the OS has none. */
  readonly shared?: FlavorSpec;
  /** Why `shared` is absent, for the error a cross-process request gets. */
  readonly noSharedReason?: string;
  /** Shared-memory calls (POSIX rows). */
  readonly memory?: MemorySpec;
  /** Facts a user of this row should know (ABI caveats, minimum OS version). */
  readonly notes: string;
  /**
   * How async waits reach the OS (adapters/native/wait_service.ts): with `waitv`, one helper
   * thread sleeps on up to {@link WAITV_MAX} words at once; without it (or where the call is
   * missing at run time, e.g. ENOSYS), helpers take turns on single words with the row's `wait`.
   */
  readonly waitv?: WaitvSpec;
}

/**
 * A multi-word wait: Linux futex_waitv(2) (5.16+),
 * `long syscall(SYS_futex_waitv, struct futex_waitv *waiters, unsigned nr, unsigned flags,
 * struct timespec *timeout, clockid_t clockid)` with `struct futex_waitv { u64 val; u64 uaddr;
 * u32 flags; u32 __reserved; }` (24 bytes), an absolute timeout on `clockid`, and the index of a
 * woken entry as its result (-1 and errno otherwise).
 */
export interface WaitvSpec {
  /** Library holding `syscall` and the errno location. */
  readonly library: string;
  /** `syscall` with the futex_waitv signature, and `__errno_location` (to recognise ENOSYS). */
  readonly symbols: Readonly<Record<string, SymbolSpec>>;
  /** The system call number: 449 on x86_64 and aarch64. */
  readonly nr: number;
  /** Per-entry flags of the process-private flavour: FUTEX2_SIZE_U32 | FUTEX2_PRIVATE. */
  readonly privateFlags: number;
  /** Per-entry flags of the cross-process flavour: FUTEX2_SIZE_U32. */
  readonly sharedFlags: number;
  /** The clock of the absolute timeout: CLOCK_REALTIME (0), so `Date.now()` can compute it. */
  readonly clockid: number;
  /** errno of a kernel without the call. */
  readonly ENOSYS: number;
}

/** Most entries one futex_waitv call takes (FUTEX_WAITV_MAX). */
export const WAITV_MAX = 128;

/** Longest single native wait, in milliseconds: a thread parked in an OS futex cannot be terminated. */
export const NATIVE_SLICE_MS = 100;

const INT32_MAX = 0x7fffffff;

// Linux futex(2): FUTEX_WAIT 0, FUTEX_WAKE 1, FUTEX_PRIVATE_FLAG 128 (omit it for MAP_SHARED memory).
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_PRIVATE_FLAG = 128;

const LINUX_SYMBOLS: Readonly<Record<string, SymbolSpec>> = {
  // long syscall(long nr, ...): variadic, but x86_64 and aarch64 Linux pass variadic integers in
  // the same registers as fixed ones, so a fixed 7-argument signature is exact there.
  syscall: { parameters: ["i64", "pointer", "i32", "i32", "pointer", "pointer", "i32"], result: "i64" },
};

const POSIX_MEMORY_SYMBOLS: Readonly<Record<string, SymbolSpec>> = {
  shm_open: { parameters: ["pointer", "i32", "u32"], result: "i32" },
  shm_unlink: { parameters: ["pointer"], result: "i32" },
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  // int fstat(int fd, struct stat *buf): a real symbol in glibc ≥ 2.33 (before, a macro over __fxstat).
  fstat: { parameters: ["i32", "pointer"], result: "i32" },
  geteuid: { parameters: [], result: "u32" },
  mmap: { parameters: ["pointer", "u64", "i32", "i32", "i32", "i64"], result: "pointer" },
  munmap: { parameters: ["pointer", "u64"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
};

const LINUX_MEMORY_SYMBOLS: Readonly<Record<string, SymbolSpec>> = {
  ...POSIX_MEMORY_SYMBOLS,
  // int posix_fallocate(int fd, off_t offset, off_t len): returns the error number itself, not -1.
  posix_fallocate: { parameters: ["i32", "i64", "i64"], result: "i32" },
  // int memfd_create(const char *name, unsigned int flags): glibc ≥ 2.27.
  memfd_create: { parameters: ["pointer", "u32"], result: "i32" },
  // int fcntl(int fd, int cmd, ...) and int open(const char *path, int flags, ...): variadic, but
  // x86_64 and aarch64 Linux pass variadic integers like fixed ones; open gets no mode (no O_CREAT).
  fcntl: { parameters: ["i32", "i32", "i32"], result: "i32" },
  open: { parameters: ["pointer", "i32"], result: "i32" },
  fchmod: { parameters: ["i32", "u32"], result: "i32" },
  getpid: { parameters: [], result: "i32" },
};

// struct stat, <bits/struct_stat.h>: x86_64 has its own layout (st_nlink before st_mode, both
// 64-bit words first); aarch64 uses asm-generic/stat.h.
const LINUX_STAT: Readonly<Record<NativeArch, StatLayout>> = {
  x86_64: { size: 144, st_mode: 24, st_uid: 28, st_size: 48 },
  aarch64: { size: 128, st_mode: 16, st_uid: 24, st_size: 48 },
};

function linuxFlavor(nr: number, shared: boolean): FlavorSpec {
  const flag = shared ? 0 : FUTEX_PRIVATE_FLAG;
  return {
    name: shared ? "linux-futex-shared" : "linux-futex",
    wait: {
      symbol: "syscall",
      args: [nr, "word", FUTEX_WAIT | flag, "expected", "timeout", "null", 0],
      timeout: "timespec",
      woke: "zero",
    },
    wakeOne: { symbol: "syscall", args: [nr, "word", FUTEX_WAKE | flag, 1, "null", "null", 0] },
    wakeAll: { symbol: "syscall", args: [nr, "word", FUTEX_WAKE | flag, INT32_MAX, "null", "null", 0] },
  };
}

function linuxRow(arch: NativeArch, nr: number): NativeRow {
  return {
    id: `linux-${arch}`,
    os: "linux",
    arch: [arch],
    library: "libc.so.6",
    symbols: LINUX_SYMBOLS,
    private: linuxFlavor(nr, false),
    shared: linuxFlavor(nr, true),
    memory: {
      library: "libc.so.6", // glibc ≥ 2.34 has shm_open in libc proper
      symbols: LINUX_MEMORY_SYMBOLS,
      O_RDWR: 0o2,
      O_CREAT: 0o100,
      O_EXCL: 0o200,
      PROT_READ_WRITE: 3,
      MAP_SHARED: 1,
      MAP_PRIVATE_ANON_FIXED: 0x02 | 0x20 | 0x10,
      stat: { [arch]: LINUX_STAT[arch] },
      grow: "posix_fallocate",
      nameMaxBytes: 255, // NAME_MAX: the name is a file in /dev/shm
      sealed: {
        MFD_FLAGS: 0x1 | 0x2, // MFD_CLOEXEC | MFD_ALLOW_SEALING
        O_CLOEXEC: 0o2000000,
        F_ADD_SEALS: 1033,
        F_GET_SEALS: 1034,
        SEALS: 0x2 | 0x4 | 0x1, // F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL
      },
    },
    waitv: {
      library: "libc.so.6",
      symbols: {
        syscall: { parameters: ["i64", "pointer", "u32", "u32", "pointer", "i32"], result: "i64" },
        __errno_location: { parameters: [], result: "pointer" },
      },
      nr: 449, // asm-generic/unistd.h and syscall_64.tbl alike
      privateFlags: 2 | 128, // FUTEX2_SIZE_U32 | FUTEX2_PRIVATE
      sharedFlags: 2,
      clockid: 0,
      ENOSYS: 38,
    },
    notes: `futex(2) through syscall(${nr}, …) in glibc; shared flavour omits FUTEX_PRIVATE_FLAG so waiters are keyed by page (MAP_SHARED works across processes)`,
  };
}

// Windows: BOOL WaitOnAddress(volatile void* addr, void* compare, SIZE_T size, DWORD ms); TRUE = woken.
const WINDOWS: NativeRow = {
  id: "windows",
  os: "windows",
  arch: ["x86_64", "aarch64"],
  library: "api-ms-win-core-synch-l1-2-0.dll",
  symbols: {
    WaitOnAddress: { parameters: ["pointer", "pointer", "u64", "u32"], result: "i32" },
    WakeByAddressSingle: { parameters: ["pointer"], result: "void" },
    WakeByAddressAll: { parameters: ["pointer"], result: "void" },
  },
  private: {
    name: "windows-waitonaddress",
    wait: { symbol: "WaitOnAddress", args: ["word", "compare", 4, "timeout"], timeout: "ms", woke: "nonzero" },
    wakeOne: { symbol: "WakeByAddressSingle", args: ["word"] },
    wakeAll: { symbol: "WakeByAddressAll", args: ["word"] },
  },
  noSharedReason:
    "Windows has no cross-process futex: WaitOnAddress is woken only by threads of the same process " +
    "(WakeByAddressSingle/All documentation); share memory between workers of one process instead",
  notes: "Windows 8+; API set DLL implemented by KernelBase; in-process only",
};

// macOS 14.4+: os_sync_wait_on_address_with_timeout(addr, u64 value, size, flags, clockid, u64 timeout_ns).
const OS_CLOCK_MACH_ABSOLUTE_TIME = 32;
const OS_SYNC_SHARED = 1;
function osSyncFlavor(shared: boolean): FlavorSpec {
  const flags = shared ? OS_SYNC_SHARED : 0;
  return {
    name: shared ? "darwin-os_sync-shared" : "darwin-os_sync",
    wait: {
      symbol: "os_sync_wait_on_address_with_timeout",
      args: ["word", "expected", 4, flags, OS_CLOCK_MACH_ABSOLUTE_TIME, "timeout"],
      timeout: "ns",
      woke: "non-negative",
    },
    wakeOne: { symbol: "os_sync_wake_by_address_any", args: ["word", 4, flags] },
    wakeAll: { symbol: "os_sync_wake_by_address_all", args: ["word", 4, flags] },
  };
}

// struct stat as the plain `fstat` symbol fills it (<sys/stat.h>, unverified on a real Mac): arm64
// has only the 64-bit-inode layout (__DARWIN_STRUCT_STAT64); on x86_64 `fstat` is the legacy
// 32-bit-inode layout (the 64-bit one is `fstat$INODE64`). Both: mode_t u16, uid_t u32, off_t i64.
const DARWIN_MEMORY: MemorySpec = {
  library: "/usr/lib/libSystem.B.dylib",
  symbols: POSIX_MEMORY_SYMBOLS,
  O_RDWR: 0x2,
  O_CREAT: 0x200,
  O_EXCL: 0x800,
  PROT_READ_WRITE: 3,
  MAP_SHARED: 1,
  MAP_PRIVATE_ANON_FIXED: 0x02 | 0x1000 | 0x10,
  stat: {
    aarch64: { size: 144, st_mode: 4, st_uid: 16, st_size: 96 },
    x86_64: { size: 120, st_mode: 8, st_uid: 12, st_size: 72 },
  },
  grow: "ftruncate", // no posix_fallocate in libSystem
  nameMaxBytes: 30, // PSHMNAMLEN 31 counts the leading slash
};

const DARWIN_OS_SYNC: NativeRow = {
  id: "darwin-os_sync",
  os: "darwin",
  arch: ["x86_64", "aarch64"],
  library: "/usr/lib/libSystem.B.dylib",
  symbols: {
    os_sync_wait_on_address_with_timeout: {
      parameters: ["pointer", "u64", "u64", "u32", "u32", "u64"],
      result: "i32",
    },
    os_sync_wake_by_address_any: { parameters: ["pointer", "u64", "u32"], result: "i32" },
    os_sync_wake_by_address_all: { parameters: ["pointer", "u64", "u32"], result: "i32" },
  },
  private: osSyncFlavor(false),
  shared: osSyncFlavor(true),
  memory: DARWIN_MEMORY,
  notes:
    "macOS 14.4+; libSystem lives in the dyld cache but dlopen finds it. shm_open is variadic and " +
    "Apple arm64 passes variadic arguments on the stack, so the mode argument is not portable there",
};

// macOS 10.12+ private API, the fallback when os_sync_* is missing: __ulock_wait(op, addr, u64 value, u32 timeout_us).
const UL_COMPARE_AND_WAIT = 1;
const UL_COMPARE_AND_WAIT_SHARED = 3;
const ULF_WAKE_ALL = 0x100;
function ulockFlavor(shared: boolean): FlavorSpec {
  const op = shared ? UL_COMPARE_AND_WAIT_SHARED : UL_COMPARE_AND_WAIT;
  return {
    name: shared ? "darwin-ulock-shared" : "darwin-ulock",
    wait: { symbol: "__ulock_wait", args: [op, "word", "expected", "timeout"], timeout: "us", woke: "non-negative" },
    wakeOne: { symbol: "__ulock_wake", args: [op, "word", 0] },
    wakeAll: { symbol: "__ulock_wake", args: [op | ULF_WAKE_ALL, "word", 0] },
  };
}

const DARWIN_ULOCK: NativeRow = {
  id: "darwin-ulock",
  os: "darwin",
  arch: ["x86_64", "aarch64"],
  library: "/usr/lib/libSystem.B.dylib",
  symbols: {
    __ulock_wait: { parameters: ["u32", "pointer", "u64", "u32"], result: "i32" },
    __ulock_wake: { parameters: ["u32", "pointer", "u64"], result: "i32" },
  },
  private: ulockFlavor(false),
  shared: ulockFlavor(true),
  memory: DARWIN_MEMORY,
  notes: "macOS 10.12+ private API (App Store risk); used only when os_sync_* is missing. Timeout 0 means forever, so the binder never passes 0",
};

// FreeBSD: _umtx_op(obj, op, u_long val, void* uaddr = (void*)sizeof(struct _umtx_time), void* uaddr2 = &umtx_time).
const UMTX_OP_WAIT_UINT = 11;
const UMTX_OP_WAIT_UINT_PRIVATE = 15;
const UMTX_OP_WAKE = 3;
const UMTX_OP_WAKE_PRIVATE = 16;
function umtxFlavor(shared: boolean): FlavorSpec {
  const wait = shared ? UMTX_OP_WAIT_UINT : UMTX_OP_WAIT_UINT_PRIVATE;
  const wake = shared ? UMTX_OP_WAKE : UMTX_OP_WAKE_PRIVATE;
  return {
    name: shared ? "freebsd-umtx-shared" : "freebsd-umtx",
    wait: {
      symbol: "_umtx_op",
      args: ["word", wait, "expected", "timeout-size", "timeout"],
      timeout: "umtx_time",
      woke: "zero",
    },
    wakeOne: { symbol: "_umtx_op", args: ["word", wake, 1, 0, "null"] },
    wakeAll: { symbol: "_umtx_op", args: ["word", wake, INT32_MAX, 0, "null"] },
  };
}

const FREEBSD_STAT: StatLayout = { size: 224, st_mode: 24, st_uid: 28, st_size: 112 };

const FREEBSD: NativeRow = {
  id: "freebsd",
  os: "freebsd",
  arch: ["x86_64", "aarch64"],
  library: "libc.so.7",
  symbols: { _umtx_op: { parameters: ["pointer", "i32", "u64", "u64", "pointer"], result: "i32" } },
  private: umtxFlavor(false),
  shared: umtxFlavor(true),
  // struct stat (FreeBSD 12+ <sys/stat.h>, ino64): st_mode u16 at 24, st_uid 28, st_size 112, 224 bytes.
  memory: {
    ...DARWIN_MEMORY,
    library: "libc.so.7",
    stat: { x86_64: FREEBSD_STAT, aarch64: FREEBSD_STAT },
    nameMaxBytes: 255, // conservative: FreeBSD accepts longer (MAXPATHLEN)
  },
  notes: "FreeBSD 11+; umtx_time is relative on CLOCK_MONOTONIC (4) with flags 0",
};

// OpenBSD: futex(u32* uaddr, FUTEX_WAIT 1 | PRIVATE 128, int val, const timespec* rel, u32* uaddr2).
const OPENBSD_WAIT = 1;
const OPENBSD_WAKE = 2;
function openbsdFlavor(shared: boolean): FlavorSpec {
  const flag = shared ? 0 : FUTEX_PRIVATE_FLAG;
  return {
    name: shared ? "openbsd-futex-shared" : "openbsd-futex",
    wait: {
      symbol: "futex",
      args: ["word", OPENBSD_WAIT | flag, "expected", "timeout", "null"],
      timeout: "timespec",
      woke: "zero",
    },
    wakeOne: { symbol: "futex", args: ["word", OPENBSD_WAKE | flag, 1, "null", "null"] },
    wakeAll: { symbol: "futex", args: ["word", OPENBSD_WAKE | flag, INT32_MAX, "null", "null"] },
  };
}

const OPENBSD_STAT: StatLayout = { size: 128, st_mode: 0, st_uid: 20, st_size: 80 };

const OPENBSD: NativeRow = {
  id: "openbsd",
  os: "openbsd",
  arch: ["x86_64", "aarch64"],
  library: "libc.so",
  symbols: { futex: { parameters: ["pointer", "i32", "i32", "pointer", "pointer"], result: "i32" } },
  private: openbsdFlavor(false),
  shared: openbsdFlavor(true),
  // struct stat (OpenBSD <sys/stat.h>): st_mode u32 first, st_uid 20, st_size 80, 128 bytes.
  memory: {
    ...DARWIN_MEMORY,
    library: "libc.so",
    stat: { x86_64: OPENBSD_STAT, aarch64: OPENBSD_STAT },
    nameMaxBytes: 255, // conservative: NAME_MAX
  },
  notes: "OpenBSD 6.2+; older man pages return the error number instead of -1 (the binder only tests for 0)",
};

/** Every row, in lookup order (a fallback follows its primary). */
export const NATIVE_TABLE: readonly NativeRow[] = Object.freeze([
  linuxRow("x86_64", 202),
  linuxRow("aarch64", 98),
  WINDOWS,
  DARWIN_OS_SYNC,
  DARWIN_ULOCK,
  FREEBSD,
  OPENBSD,
]);


/** Normalise `process.arch` / `Deno.build.arch` spellings ("x64", "arm64", …) to a row's. */
export function normalizeArch(arch: string): string {
  return arch === "x64" ? "x86_64" : arch === "arm64" ? "aarch64" : arch;
}

/** Normalise `process.platform` / `Deno.build.os` spellings ("win32", …) to a row's. */
export function normalizeOs(os: string): string {
  return os === "win32" ? "windows" : os;
}

/**
 * The rows to try for an OS and architecture, primary first (macOS: os_sync, then ulock).
 * Throws {@link UnsupportedPlatformError} naming every supported pair when none matches.
 *
 * @example
 * ```ts
 * import { rowsFor } from "@futex/sync/deno";
 * rowsFor("linux", "x86_64")[0].private.name; // "linux-futex"
 * ```
 */
export function rowsFor(os: string, arch: string): NativeRow[] {
  const o = normalizeOs(os);
  const a = normalizeArch(arch);
  const rows = NATIVE_TABLE.filter((r) => r.os === o && (r.arch as readonly string[]).includes(a));
  if (rows.length === 0) {
    const supported = NATIVE_TABLE.map((r) => `${r.os} (${r.arch.join(", ")})`);
    throw new UnsupportedPlatformError(
      `no native futex for ${os}/${arch}: supported are ${[...new Set(supported)].join("; ")} (64-bit only); ` +
        "use the Atomics futex (the default) between workers of one process",
    );
  }
  return rows;
}
