/**
 * Every row of the native table (adapters/native/table.ts), executed: the binder (bind.ts,
 * shared_memory.ts) runs each row against a recording fake FFI (tests/support/fake_ffi.ts) that
 * pretends to be that OS, on any host and in every runtime. Each row's block below restates its
 * man page — prototype, constants, timeout encoding, return convention — and the tests check
 * that the calls the binder makes are exactly those, and that each return convention comes out
 * as the futex contract's "ok" / "not-equal" / "timed-out" (or the error thrown).
 *
 * A row added to the table without a block here fails the first test.
 */

import assert from "node:assert/strict";
import { test } from "node:test";
import { bindNativeFutex, type NativeFutex } from "../adapters/native/bind.ts";
import { FfiPermissionError, FutexClosedError, SharedRegionPermissionError } from "../adapters/native/errors.ts";
import { openRegionWith, unlinkRegionWith } from "../adapters/native/shared_memory.ts";
import { NATIVE_TABLE, type NativeType, type SymbolSpec } from "../adapters/native/table.ts";
import { FIRED_GEN, GEN, serviceStats, SLOTS } from "../adapters/native/wait_service.ts";
import {
  FakeKernel,
  FakeFfi,
  FakePointer,
  isPointerArg,
  type PointerArg,
  type RecordedCall,
  sleepAsync,
  sleepSync,
} from "./support/fake_ffi.ts";

// ---------------------------------------------------------------------------------------------
// How an expected call is written: constants as numbers, NULL as null, and markers for what a
// pointer argument must point at (decoded from the bytes there when the call was made).

/** One call as the man page spells it. */
interface Expected {
  readonly symbol: string;
  readonly args: readonly unknown[];
}
const call = (symbol: string, ...args: unknown[]): Expected => ({ symbol, args });

/** A pointer to the futex word itself. */
const WORD = Object.freeze({ pointer: "the futex word" });
/** `struct timespec { time_t tv_sec; long tv_nsec; }` (64-bit: two int64), a relative `ns`. */
const timespec = (ns: number) => ({ timespec: split(ns) });
/** FreeBSD `struct _umtx_time { struct timespec _timeout; uint32_t _flags; uint32_t _clockid; }`. */
const umtxTime = (ns: number, flags: number, clockid: number) => ({ umtx_time: { _timeout: split(ns), _flags: flags, _clockid: clockid } });
/** A pointer to a 32-bit integer holding `value` (not the word: a copy). */
const int32At = (value: number) => ({ int32: value });
/** A pointer to a NUL-terminated string. */
const cString = (s: string) => ({ string: s });

function split(ns: number): { tv_sec: bigint; tv_nsec: bigint } {
  return { tv_sec: BigInt(Math.floor(ns / 1e9)), tv_nsec: BigInt(ns % 1e9) };
}

const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

function decodeTimespec(a: PointerArg, at = 0): { tv_sec: bigint; tv_nsec: bigint } {
  return { tv_sec: a.bytes.getBigInt64(at, LE), tv_nsec: a.bytes.getBigInt64(at + 8, LE) };
}

function pointerArg(v: unknown, what: string): PointerArg {
  if (!isPointerArg(v)) assert.fail(`${what}: expected a pointer, got ${String(v)}`);
  return v;
}

/** Where the futex word is. */
interface Place {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
}

/** A recorded call rendered in the terms of `want`, so `deepEqual(render(c, want), want)` compares like with like. */
function render(c: RecordedCall, want: Expected, word: Place): Expected {
  return {
    symbol: c.symbol,
    args: c.args.map((a, i) => {
      if (!isPointerArg(a)) return a;
      if (a.pointer.buffer === word.buffer && a.pointer.byteOffset === word.byteOffset) return WORD;
      const w = want.args[i] as Record<string, unknown> | null | number;
      if (w !== null && typeof w === "object") {
        if ("timespec" in w) return { timespec: decodeTimespec(a) };
        if ("umtx_time" in w) {
          return { umtx_time: { _timeout: decodeTimespec(a), _flags: a.bytes.getUint32(16, LE), _clockid: a.bytes.getUint32(20, LE) } };
        }
        if ("int32" in w) return { int32: a.bytes.getInt32(0, LE) };
        if ("string" in w) {
          const bytes = new Uint8Array(a.bytes.buffer);
          const end = bytes.indexOf(0);
          return { string: new TextDecoder().decode(bytes.subarray(0, end < 0 ? bytes.length : end)) };
        }
      }
      return { pointer: `byte ${a.pointer.byteOffset} of some other buffer` };
    }),
  };
}

const sig = (parameters: NativeType[], result: NativeType): SymbolSpec => ({ parameters, result });

// ---------------------------------------------------------------------------------------------
// The rows, each from its man page.

/** One flavour (process-private or cross-process) of a row. */
interface Flavor {
  /** The futex's name. */
  readonly name: string;
  /** The wait of the 32-bit word holding `value`, sleeping at most `ns` nanoseconds. */
  wait(value: number, ns: number): Expected;
  readonly wakeOne: Expected;
  readonly wakeAll: Expected;
}

/** Shared memory: the constants of the OS headers and where errno lives. */
interface Memory {
  readonly library: string;
  readonly O_RDWR: number;
  readonly O_CREAT: number;
  readonly O_EXCL: number;
  /** The function returning `int *` to this thread's errno. */
  readonly errno: string;
  /** `struct stat` of the plain `fstat` symbol on this row's test architecture: its size and field offsets. */
  readonly stat: { size: number; st_mode: number; st_uid: number; st_size: number };
  /** How a region being created gets its length: reserved (posix_fallocate) or only set (ftruncate). */
  readonly grow: "posix_fallocate" | "ftruncate";
}

interface Row {
  /** The table row this block describes. */
  readonly id: string;
  /** The host the fake pretends to be, spelled as a runtime reports it. */
  readonly os: string;
  readonly arch: string;
  /** Symbols this host lacks (so the lookup falls back to this row). */
  readonly missing?: readonly string[];
  readonly library: string;
  /** The C prototypes, as FFI signatures. */
  readonly symbols: Readonly<Record<string, SymbolSpec>>;
  readonly private: Flavor;
  readonly shared?: Flavor;
  /** Return values of the wait that mean "woken" (or a spurious return, which the contract allows). */
  readonly woken: readonly number[];
  /** Return values that are not a wake, by what they mean (timeout, interrupted, value changed). */
  readonly notWoken: Readonly<Record<string, number>>;
  /** What the wait returns when its timeout expires. */
  readonly timedOut: number;
  /** The nanoseconds a recorded wait call asks to sleep at most. */
  sliceNs(c: RecordedCall): number;
  readonly memory?: Memory;
}

const INT_MAX = 0x7fffffff;
/** <sys/mman.h> PROT_READ 1, PROT_WRITE 2, MAP_SHARED 1 — the same on every POSIX row. */
const PROT_READ = 1;
const PROT_WRITE = 2;
const MAP_SHARED = 1;
/** The u32 word's value in a wider unsigned parameter (uint64_t, u_long): zero-extended. */
const u32 = (value: number): number => value >>> 0;

// Linux futex(2):
//   long syscall(SYS_futex, uint32_t *uaddr, int futex_op, uint32_t val,
//                const struct timespec *timeout, uint32_t *uaddr2, uint32_t val3);
// <linux/futex.h>: FUTEX_WAIT 0, FUTEX_WAKE 1, FUTEX_PRIVATE_FLAG 128 (omitted for a futex in
// MAP_SHARED memory, so waiters are keyed by the page and other processes reach them).
// FUTEX_WAIT: the timeout is relative; 0 when woken (or spuriously), else -1 with errno EAGAIN
// (*uaddr != val), ETIMEDOUT or EINTR. FUTEX_WAKE wakes at most val waiters (INT_MAX: all).
// SYS_futex: 202 on x86_64 (syscall_64.tbl), 98 on aarch64 (asm-generic/unistd.h).
const FUTEX_WAIT = 0;
const FUTEX_WAKE = 1;
const FUTEX_PRIVATE_FLAG = 128;
function linux(id: string, arch: string, SYS_futex: number): Row {
  const flavor = (shared: boolean): Flavor => {
    const p = shared ? 0 : FUTEX_PRIVATE_FLAG;
    return {
      name: shared ? "linux-futex-shared" : "linux-futex",
      // val: the word's 32 bits; declared int, so the word's signed value.
      wait: (value, ns) => call("syscall", SYS_futex, WORD, FUTEX_WAIT | p, value, timespec(ns), null, 0),
      wakeOne: call("syscall", SYS_futex, WORD, FUTEX_WAKE | p, 1, null, null, 0),
      wakeAll: call("syscall", SYS_futex, WORD, FUTEX_WAKE | p, INT_MAX, null, null, 0),
    };
  };
  return {
    id,
    os: "linux",
    arch,
    library: "libc.so.6",
    // syscall(2) is variadic (long syscall(long number, ...)); x86_64 and aarch64 pass variadic
    // integers in the registers of fixed ones, so this fixed signature is exact there.
    symbols: { syscall: sig(["i64", "pointer", "i32", "i32", "pointer", "pointer", "i32"], "i64") },
    private: flavor(false),
    shared: flavor(true),
    woken: [0],
    notWoken: { "-1 (errno EAGAIN, ETIMEDOUT or EINTR)": -1 },
    timedOut: -1,
    sliceNs: (c) => timespecNs(c.args[4]),
    // <fcntl.h> (asm-generic/fcntl.h): O_RDWR 02, O_CREAT 0100, O_EXCL 0200; glibc <errno.h>:
    // errno is *__errno_location(); glibc 2.34+ has shm_open in libc.so.6. struct stat
    // (<bits/struct_stat.h>): x86_64 { u64 st_dev, st_ino, st_nlink; u32 st_mode @24, st_uid @28,
    // st_gid, pad; u64 st_rdev; i64 st_size @48; … } 144 bytes; aarch64 (asm-generic/stat.h)
    // { u64 st_dev, st_ino; u32 st_mode @16, st_nlink, st_uid @24, st_gid; u64 st_rdev, pad;
    // i64 st_size @48; … } 128 bytes. posix_fallocate(3) reserves the pages (tmpfs: ENOSPC now, not SIGBUS later).
    memory: {
      library: "libc.so.6",
      O_RDWR: 0o2,
      O_CREAT: 0o100,
      O_EXCL: 0o200,
      errno: "__errno_location",
      stat: arch === "x64" ? { size: 144, st_mode: 24, st_uid: 28, st_size: 48 } : { size: 128, st_mode: 16, st_uid: 24, st_size: 48 },
      grow: "posix_fallocate",
    },
  };
}

// Windows, Win32 docs (synchapi.h; DLL API-MS-Win-Core-Synch-l1-2-0.dll):
//   BOOL WaitOnAddress(volatile VOID *Address, PVOID CompareAddress, SIZE_T AddressSize, DWORD dwMilliseconds);
//   void WakeByAddressSingle(PVOID Address);   void WakeByAddressAll(PVOID Address);
// WaitOnAddress compares *Address with *CompareAddress (AddressSize bytes); it returns TRUE when
// woken (also spuriously, or when the values differ), FALSE on timeout with GetLastError()
// ERROR_TIMEOUT (1460). dwMilliseconds 0 returns at once, INFINITE (0xFFFFFFFF) never times out.
// Only threads of the same process can wake a waiter: there is no shared flavour.
const WINDOWS: Row = {
  id: "windows",
  os: "win32",
  arch: "x64",
  library: "api-ms-win-core-synch-l1-2-0.dll",
  symbols: {
    WaitOnAddress: sig(["pointer", "pointer", "u64", "u32"], "i32"),
    WakeByAddressSingle: sig(["pointer"], "void"),
    WakeByAddressAll: sig(["pointer"], "void"),
  },
  private: {
    name: "windows-waitonaddress",
    wait: (value, ns) => call("WaitOnAddress", WORD, int32At(value), 4, ns / 1e6),
    wakeOne: call("WakeByAddressSingle", WORD),
    wakeAll: call("WakeByAddressAll", WORD),
  },
  woken: [1],
  notWoken: { "FALSE (GetLastError ERROR_TIMEOUT)": 0 },
  timedOut: 0,
  sliceNs: (c) => (c.args[3] as number) * 1e6,
};

// macOS 14.4+, <os/os_sync_wait_on_address.h>:
//   int os_sync_wait_on_address_with_timeout(void *addr, uint64_t value, size_t size,
//       os_sync_wait_on_address_flags_t flags, os_clockid_t clockid, uint64_t timeout_ns);
//   int os_sync_wake_by_address_any(void *addr, size_t size, os_sync_wake_by_address_flags_t flags);
//   int os_sync_wake_by_address_all(void *addr, size_t size, os_sync_wake_by_address_flags_t flags);
// OS_SYNC_WAIT_ON_ADDRESS_NONE 0, OS_SYNC_WAIT_ON_ADDRESS_SHARED 1 (and the same for WAKE_BY);
// <os/clock.h> OS_CLOCK_MACH_ABSOLUTE_TIME 32. size is 4 or 8. The wait returns the number of
// waiters still blocked (≥ 0) when woken or when *addr != value, -1 with errno ETIMEDOUT or EINTR;
// a timeout_ns of 0 is EINVAL.
const OS_SYNC_SHARED = 1;
const OS_CLOCK_MACH_ABSOLUTE_TIME = 32;
const DARWIN_MEMORY: Memory = {
  // <sys/fcntl.h>: O_RDWR 0x2, O_CREAT 0x200, O_EXCL 0x800; <sys/errno.h>: errno is *__error().
  library: "/usr/lib/libSystem.B.dylib",
  O_RDWR: 0x2,
  O_CREAT: 0x200,
  O_EXCL: 0x800,
  errno: "__error",
  // <sys/stat.h>, 64-bit inode (arm64's only `fstat`): { i32 st_dev; u16 st_mode @4; u16 st_nlink;
  // u64 st_ino; u32 st_uid @16; …; 4 timespecs @32; i64 st_size @96; … } 144 bytes. No posix_fallocate.
  stat: { size: 144, st_mode: 4, st_uid: 16, st_size: 96 },
  grow: "ftruncate",
};
function osSync(shared: boolean): Flavor {
  const flags = shared ? OS_SYNC_SHARED : 0;
  return {
    name: shared ? "darwin-os_sync-shared" : "darwin-os_sync",
    wait: (value, ns) => call("os_sync_wait_on_address_with_timeout", WORD, u32(value), 4, flags, OS_CLOCK_MACH_ABSOLUTE_TIME, ns),
    wakeOne: call("os_sync_wake_by_address_any", WORD, 4, flags),
    wakeAll: call("os_sync_wake_by_address_all", WORD, 4, flags),
  };
}
const DARWIN_OS_SYNC: Row = {
  id: "darwin-os_sync",
  os: "darwin",
  arch: "arm64",
  library: "/usr/lib/libSystem.B.dylib",
  symbols: {
    os_sync_wait_on_address_with_timeout: sig(["pointer", "u64", "u64", "u32", "u32", "u64"], "i32"),
    os_sync_wake_by_address_any: sig(["pointer", "u64", "u32"], "i32"),
    os_sync_wake_by_address_all: sig(["pointer", "u64", "u32"], "i32"),
  },
  private: osSync(false),
  shared: osSync(true),
  woken: [0, 2],
  notWoken: { "-1 (errno ETIMEDOUT or EINTR)": -1 },
  timedOut: -1,
  sliceNs: (c) => c.args[5] as number,
  memory: DARWIN_MEMORY,
};

// macOS 10.12+, xnu bsd/sys/ulock.h (private API; the fallback where os_sync_* is missing):
//   int __ulock_wait(uint32_t operation, void *addr, uint64_t value, uint32_t timeout);  // µs, 0 = forever
//   int __ulock_wake(uint32_t operation, void *addr, uint64_t wake_value);
// UL_COMPARE_AND_WAIT 1, UL_COMPARE_AND_WAIT_SHARED 3, ULF_WAKE_ALL 0x100. The wait returns
// the number of waiters left (≥ 0) when woken or when *addr != value, -1 with errno ETIMEDOUT,
// EINTR or EFAULT.
const UL_COMPARE_AND_WAIT = 1;
const UL_COMPARE_AND_WAIT_SHARED = 3;
const ULF_WAKE_ALL = 0x100;
function ulock(shared: boolean): Flavor {
  const op = shared ? UL_COMPARE_AND_WAIT_SHARED : UL_COMPARE_AND_WAIT;
  return {
    name: shared ? "darwin-ulock-shared" : "darwin-ulock",
    wait: (value, ns) => call("__ulock_wait", op, WORD, u32(value), ns / 1e3),
    wakeOne: call("__ulock_wake", op, WORD, 0),
    wakeAll: call("__ulock_wake", op | ULF_WAKE_ALL, WORD, 0),
  };
}
const DARWIN_ULOCK: Row = {
  id: "darwin-ulock",
  os: "darwin",
  arch: "x64",
  missing: ["os_sync_wait_on_address_with_timeout", "os_sync_wake_by_address_any", "os_sync_wake_by_address_all"],
  library: "/usr/lib/libSystem.B.dylib",
  symbols: {
    __ulock_wait: sig(["u32", "pointer", "u64", "u32"], "i32"),
    __ulock_wake: sig(["u32", "pointer", "u64"], "i32"),
  },
  private: ulock(false),
  shared: ulock(true),
  woken: [0, 3],
  notWoken: { "-1 (errno ETIMEDOUT or EINTR)": -1 },
  timedOut: -1,
  sliceNs: (c) => (c.args[3] as number) * 1e3,
  // x86_64's plain `fstat` fills the legacy 32-bit-inode struct stat: { i32 st_dev; u32 st_ino;
  // u16 st_mode @8; u16 st_nlink; u32 st_uid @12; …; 3 timespecs @24; i64 st_size @72; … } 120 bytes.
  memory: { ...DARWIN_MEMORY, stat: { size: 120, st_mode: 8, st_uid: 12, st_size: 72 } },
};

// FreeBSD _umtx_op(2):
//   int _umtx_op(void *obj, int op, u_long val, void *uaddr, void *uaddr2);
// <sys/umtx.h>: UMTX_OP_WAKE 3, UMTX_OP_WAIT_UINT 11, UMTX_OP_WAIT_UINT_PRIVATE 15,
// UMTX_OP_WAKE_PRIVATE 16. UMTX_OP_WAIT_UINT sleeps while *(u_int *)obj == val. Its timeout:
// uaddr2 points at it and uaddr carries its size, (void *)sizeof; a size above
// sizeof(struct timespec) (16) means struct _umtx_time (24 bytes: timespec, _flags, _clockid),
// 16 or less a bare timespec measured on CLOCK_REALTIME. _flags 0 is relative (UMTX_ABSTIME 1
// would be absolute); <sys/_clock_id.h> CLOCK_MONOTONIC 4. Returns 0 when woken or when the value
// differs, -1 with errno ETIMEDOUT or EINTR. UMTX_OP_WAKE wakes up to val waiters (INT_MAX: all);
// uaddr and uaddr2 are unused.
const UMTX_OP_WAKE = 3;
const UMTX_OP_WAIT_UINT = 11;
const UMTX_OP_WAIT_UINT_PRIVATE = 15;
const UMTX_OP_WAKE_PRIVATE = 16;
const SIZEOF_UMTX_TIME = 24;
const CLOCK_MONOTONIC_FREEBSD = 4;
function umtx(shared: boolean): Flavor {
  const wait = shared ? UMTX_OP_WAIT_UINT : UMTX_OP_WAIT_UINT_PRIVATE;
  const wake = shared ? UMTX_OP_WAKE : UMTX_OP_WAKE_PRIVATE;
  return {
    name: shared ? "freebsd-umtx-shared" : "freebsd-umtx",
    wait: (value, ns) => call("_umtx_op", WORD, wait, u32(value), SIZEOF_UMTX_TIME, umtxTime(ns, 0, CLOCK_MONOTONIC_FREEBSD)),
    wakeOne: call("_umtx_op", WORD, wake, 1, 0, null),
    wakeAll: call("_umtx_op", WORD, wake, INT_MAX, 0, null),
  };
}
const BSD_FLAGS = { O_RDWR: 0x2, O_CREAT: 0x200, O_EXCL: 0x800 }; // <sys/fcntl.h> on FreeBSD and OpenBSD
const FREEBSD: Row = {
  id: "freebsd",
  os: "freebsd",
  arch: "x86_64",
  library: "libc.so.7",
  // uaddr is declared an integer: it carries a size, in the register a pointer would use.
  symbols: { _umtx_op: sig(["pointer", "i32", "u64", "u64", "pointer"], "i32") },
  private: umtx(false),
  shared: umtx(true),
  woken: [0],
  notWoken: { "-1 (errno ETIMEDOUT or EINTR)": -1 },
  timedOut: -1,
  sliceNs: (c) => timespecNs(c.args[4]),
  // <errno.h>: errno is *__error(). struct stat (FreeBSD 12+): { u64 st_dev, st_ino, st_nlink;
  // u16 st_mode @24; i16 st_bsdflags; u32 st_uid @28; …; 4 timespecs @48; i64 st_size @112; … } 224 bytes.
  memory: {
    library: "libc.so.7",
    ...BSD_FLAGS,
    errno: "__error",
    stat: { size: 224, st_mode: 24, st_uid: 28, st_size: 112 },
    grow: "ftruncate",
  },
};

// OpenBSD futex(2):
//   int futex(volatile uint32_t *uaddr, int op, int val, const struct timespec *timeout, volatile uint32_t *uaddr2);
// <sys/futex.h>: FUTEX_WAIT 1, FUTEX_WAKE 2, FUTEX_PRIVATE_FLAG 128. FUTEX_WAIT's timeout is
// relative; it returns 0 when woken, -1 with errno ETIMEDOUT, EAGAIN (*uaddr != val), EINTR or
// ECANCELED — older releases returned the error number itself (<sys/errno.h>: EINTR 4, EAGAIN 35,
// ETIMEDOUT 60). FUTEX_WAKE wakes up to val waiters.
const OPENBSD_FUTEX_WAIT = 1;
const OPENBSD_FUTEX_WAKE = 2;
function openbsdFutex(shared: boolean): Flavor {
  const p = shared ? 0 : FUTEX_PRIVATE_FLAG;
  return {
    name: shared ? "openbsd-futex-shared" : "openbsd-futex",
    wait: (value, ns) => call("futex", WORD, OPENBSD_FUTEX_WAIT | p, value, timespec(ns), null),
    wakeOne: call("futex", WORD, OPENBSD_FUTEX_WAKE | p, 1, null, null),
    wakeAll: call("futex", WORD, OPENBSD_FUTEX_WAKE | p, INT_MAX, null, null),
  };
}
const OPENBSD: Row = {
  id: "openbsd",
  os: "openbsd",
  arch: "aarch64",
  library: "libc.so",
  symbols: { futex: sig(["pointer", "i32", "i32", "pointer", "pointer"], "i32") },
  private: openbsdFutex(false),
  shared: openbsdFutex(true),
  woken: [0],
  notWoken: {
    "-1 (errno ETIMEDOUT, EAGAIN, EINTR or ECANCELED)": -1,
    "60 (ETIMEDOUT returned directly, older releases)": 60,
    "35 (EAGAIN returned directly, older releases)": 35,
    "4 (EINTR returned directly, older releases)": 4,
  },
  timedOut: -1,
  sliceNs: (c) => timespecNs(c.args[3]),
  // <errno.h>: errno is *__errno(). struct stat: { u32 st_mode @0; i32 st_dev; u64 st_ino;
  // u32 st_nlink; u32 st_uid @20; …; 3 timespecs @32; i64 st_size @80; … } 128 bytes.
  memory: {
    library: "libc.so",
    ...BSD_FLAGS,
    errno: "__errno",
    stat: { size: 128, st_mode: 0, st_uid: 20, st_size: 80 },
    grow: "ftruncate",
  },
};

const ROWS: readonly Row[] = [
  linux("linux-x86_64", "x64", 202),
  linux("linux-aarch64", "arm64", 98),
  WINDOWS,
  DARWIN_OS_SYNC,
  DARWIN_ULOCK,
  FREEBSD,
  OPENBSD,
];

function timespecNs(v: unknown): number {
  const t = decodeTimespec(pointerArg(v, "timeout"));
  return Number(t.tv_sec) * 1e9 + Number(t.tv_nsec);
}

// ---------------------------------------------------------------------------------------------
// Driving a row.

const EXPECTED = -2; // a negative value: signed and unsigned parameters spell it differently
const INDEX = 1;

interface Rig {
  fake: FakeFfi;
  futex: NativeFutex;
  view: Int32Array;
  /** Where view[INDEX] is: 12 bytes into its buffer (the view itself starts at byte 8). */
  word: Place;
  /** The recorded calls rendered against what the man page says (calls on the word only). */
  rendered(want: (c: RecordedCall) => Expected): { got: Expected[]; want: Expected[] };
  /** The recorded calls that pass a pointer to the word (not a helper's control word). */
  wordCalls(): RecordedCall[];
}

function rig(row: Row, shared: boolean, sliceMs = 5, asyncPath?: "waitv" | "slices"): Rig {
  const fake = new FakeFfi(row.os, row.arch, row.missing);
  const futex = bindNativeFutex(fake, { crossProcess: shared, sliceMs, asyncPath });
  const sab = new SharedArrayBuffer(32);
  const view = new Int32Array(sab, 8, 4);
  view[INDEX] = EXPECTED;
  const word = { buffer: sab, byteOffset: 8 + 4 * INDEX };
  const wordCalls = (): RecordedCall[] =>
    fake.calls.filter((c) => c.args.some((a) => isPointerArg(a) && a.pointer.buffer === sab && a.pointer.byteOffset === word.byteOffset));
  return {
    fake,
    futex,
    view,
    word,
    rendered(want) {
      const calls = wordCalls();
      const w = calls.map(want);
      return { got: calls.map((c, i) => render(c, w[i], word)), want: w };
    },
    wordCalls,
  };
}

/** Thrown by a scripted call that should never come: the previous return was a wake. */
function notAWake(r: number): never {
  throw new Error(`the binder called again after ${r}, which the man page says is a wake`);
}

function flavors(row: Row): [boolean, Flavor][] {
  return row.shared ? [[false, row.private], [true, row.shared]] : [[false, row.private]];
}

test("every table row has its man-page conventions in this file, and the same flavours", () => {
  assert.deepEqual(ROWS.map((r) => r.id), NATIVE_TABLE.map((r) => r.id));
  for (const row of ROWS) {
    const t = NATIVE_TABLE.find((r) => r.id === row.id)!;
    assert.equal(t.private.name, row.private.name);
    assert.equal(t.shared?.name, row.shared?.name, `${row.id}: shared flavour`);
  }
});

for (const row of ROWS) {
  test(`${row.id}: bound on ${row.os}/${row.arch}${row.missing ? " without os_sync_*" : ""}, opening ${row.library} with the man page's prototypes`, () => {
    for (const [shared, fl] of flavors(row)) {
      const { fake, futex } = rig(row, shared);
      assert.equal(futex.row, row.id);
      assert.equal(futex.name, fl.name);
      assert.equal(futex.crossProcess, shared);
      assert.deepEqual(fake.opened, [{ library: row.library, symbols: row.symbols }]);
      assert.deepEqual(fake.calls, [], "binding calls nothing");
    }
  });

  for (const [shared, fl] of flavors(row)) {
    const label = `${row.id} ${fl.name}`;

    test(`${label}: wait is the man page's call; a wake return (${row.woken.join(" or ")}) → "ok"`, () => {
      for (const r of row.woken) {
        const { fake, futex, view, rendered } = rig(row, shared, 5);
        fake.respond = () => (fake.calls.length === 1 ? r : notAWake(r));
        assert.equal(futex.wait(view, INDEX, EXPECTED), "ok", `return ${r}`);
        const { got, want } = rendered(() => fl.wait(EXPECTED, 5e6)); // an untimed wait sleeps whole 5 ms slices
        assert.deepEqual(got, want);
        assert.equal(got.length, 1);
      }
      // A positive value and a slice over a second (the seconds carry out of the nanoseconds).
      const { fake, futex, view, rendered } = rig(row, shared, 1500);
      view[INDEX] = 7;
      fake.respond = () => (fake.calls.length === 1 ? row.woken[0] : notAWake(row.woken[0]));
      assert.equal(futex.wait(view, INDEX, 7), "ok");
      const { got, want } = rendered(() => fl.wait(7, 1.5e9));
      assert.deepEqual(got, want);
    });

    const notWoken = Object.entries(row.notWoken);
    test(`${label}: ${notWoken.map(([what]) => what).join(", ")} → the word is re-read and the call repeated; a moved word → "not-equal"`, () => {
      // Slices of a second, so no return here is slow enough to count as an expired slice.
      const { fake, futex, view, rendered } = rig(row, shared, 1000);
      fake.respond = () => {
        const k = fake.calls.length - 1;
        if (k < notWoken.length) return notWoken[k][1];
        Atomics.store(view, INDEX, EXPECTED + 1); // a waker moved the word: the OS would say "value differs"
        return notWoken[0][1];
      };
      assert.equal(futex.wait(view, INDEX, EXPECTED), "not-equal");
      const { got, want } = rendered(() => fl.wait(EXPECTED, 1e9));
      assert.equal(got.length, notWoken.length + 1);
      assert.deepEqual(got, want);
      assert.equal(futex.expiredSlices, 0, "returns that did not last a slice are not expired slices");
    });

    test(`${label}: a timed wait whose OS wait times out (${row.timedOut}) ends "timed-out" at the deadline; full slices are counted`, () => {
      const { fake, futex, view, rendered } = rig(row, shared, 100);
      const calledAt: number[] = [];
      fake.respond = (c) => {
        calledAt.push(performance.now());
        sleepSync(row.sliceNs(c) / 1e6);
        return row.timedOut;
      };
      const t0 = performance.now();
      assert.equal(futex.wait(view, INDEX, EXPECTED, 25), "timed-out");
      assert.ok(performance.now() - t0 >= 25, "waited out the timeout");
      const slices = fake.calls.map((c) => row.sliceNs(c));
      assert.ok(slices.length >= 1);
      slices.forEach((ns, i) => {
        assert.ok(ns > 0 && ns <= 26e6, `slice ${ns} ns within the 25 ms asked for`);
        // Each slice is the whole time left: at least what remained when the call arrived.
        assert.ok(ns >= (t0 + 25 - calledAt[i]) * 1e6 - 1, `slice ${i} of ${ns} ns covers the time left`);
      });
      const { got, want } = rendered((c) => fl.wait(EXPECTED, row.sliceNs(c)));
      assert.deepEqual(got, want);
      assert.equal(futex.expiredSlices, 0, "a slice shorter than sliceMs is not an expired slice");

      // Untimed, slices of 10 ms: two that sleep through, then a wake.
      const b = rig(row, shared, 10);
      b.fake.respond = (c) => {
        if (b.fake.calls.length <= 2) {
          sleepSync(row.sliceNs(c) / 1e6);
          return row.timedOut;
        }
        return b.fake.calls.length === 3 ? row.woken[0] : notAWake(row.woken[0]);
      };
      assert.equal(b.futex.wait(b.view, INDEX, EXPECTED), "ok");
      assert.equal(b.futex.expiredSlices, 2);
      assert.deepEqual(b.fake.calls.map((c) => row.sliceNs(c)), [10e6, 10e6, 10e6]);
    });

    test(`${label}: a timeout never reaches the OS as 0 (forever for __ulock_wait, EINVAL for os_sync, a busy return elsewhere)`, () => {
      const { fake, futex, view } = rig(row, shared, 5);
      fake.respond = () => row.timedOut;
      for (const ms of [0.0001, 0.001, 0.01, 0.05, 0.3]) {
        assert.equal(futex.wait(view, INDEX, EXPECTED, ms), "timed-out");
      }
      for (const c of fake.calls) assert.ok(row.sliceNs(c) > 0, `${c.symbol}: timeout argument is positive`);
    });

    test(`${label}: waitAsync ("slices" helper) makes the man page's wait calls, maps the same returns, and passes errors on`, async () => {
      // The helper takes turns on single words with the row's wait (the path of rows without
      // futex_waitv, forced here for every row); its own control-word calls are not the word's.
      const a = rig(row, shared, 5, "slices");
      let k = 0;
      a.fake.respond = async () => {
        await sleepAsync(1);
        k++;
        return k === 1 ? row.timedOut : k === 2 ? row.woken[row.woken.length - 1] : notAWake(row.woken[row.woken.length - 1]);
      };
      assert.equal(await a.futex.waitAsync(a.view, INDEX, EXPECTED), "ok");
      const { got, want } = a.rendered(() => fl.wait(EXPECTED, 20e6)); // SLICE_MS turns
      assert.equal(got.length, 2);
      assert.deepEqual(got, want);
      assert.ok(a.wordCalls().every((c) => c.async), "every wait on the word was made by the helper");

      const t = rig(row, shared, 100, "slices");
      t.fake.respond = async (c) => {
        await sleepAsync(row.sliceNs(c) / 1e6);
        return row.timedOut;
      };
      const t0 = performance.now();
      assert.equal(await t.futex.waitAsync(t.view, INDEX, EXPECTED, 25), "timed-out");
      assert.ok(performance.now() - t0 >= 24);
      const timed = t.rendered((c) => fl.wait(EXPECTED, row.sliceNs(c)));
      assert.deepEqual(timed.got, timed.want);

      // Two words: one helper takes turns on both; a quick non-wake return re-checks the word.
      const two = rig(row, shared, 5, "slices");
      two.view[2] = EXPECTED;
      two.fake.respond = async (c) => {
        await sleepAsync(2);
        const w = pointerArg(c.args.find((x) => isPointerArg(x) && x.pointer.buffer === two.view.buffer), "word");
        if (w.pointer.byteOffset === two.word.byteOffset) return row.woken[0];
        Atomics.store(two.view, 2, EXPECTED + 1); // the other word moves: "value differs"
        return row.timedOut;
      };
      const both = await Promise.all([two.futex.waitAsync(two.view, INDEX, EXPECTED), two.futex.waitAsync(two.view, 2, EXPECTED)]);
      assert.deepEqual(both, ["ok", "not-equal"]);
      assert.equal(two.fake.helpers.length, 1, "one helper for both words");

      const e = rig(row, shared, 5, "slices");
      const boom = new Error("the helper thread died");
      e.fake.respond = () => Promise.reject(boom);
      await assert.rejects(e.futex.waitAsync(e.view, INDEX, EXPECTED), (err: Error) => {
        assert.equal(err.cause, boom);
        assert.match(err.message, /helper thread stopped.*retry the wait/);
        return true;
      });
    });

    test(`${label}: wakeOne and wakeAll are the man page's calls`, () => {
      const { fake, futex, view, word } = rig(row, shared);
      futex.wakeOne(view, INDEX);
      futex.wakeAll(view, INDEX);
      assert.deepEqual(fake.calls.map((c, i) => render(c, [fl.wakeOne, fl.wakeAll][i], word)), [fl.wakeOne, fl.wakeAll]);
    });

    test(`${label}: no OS call when the word already differs, the timeout is 0, or the futex is closed`, async () => {
      const { fake, futex, view } = rig(row, shared);
      fake.respond = () => assert.fail("no call expected");
      assert.equal(futex.wait(view, INDEX, EXPECTED + 1), "not-equal");
      assert.equal(futex.wait(view, INDEX, EXPECTED, 0), "timed-out");
      assert.equal(await futex.waitAsync(view, INDEX, EXPECTED + 1), "not-equal");
      assert.equal(await futex.waitAsync(view, INDEX, EXPECTED, 0), "timed-out");
      futex.close();
      assert.throws(() => futex.wait(view, INDEX, EXPECTED), FutexClosedError);
      assert.throws(() => futex.wakeAll(view, INDEX), FutexClosedError);
      await assert.rejects(futex.waitAsync(view, INDEX, EXPECTED), FutexClosedError);
      assert.deepEqual(fake.calls, []);
    });
  }

  const memory = row.memory;
  if (memory) {
    test(`${row.id}: shared region — shm_open, fstat, geteuid, ${memory.grow}, mmap, close, munmap, shm_unlink with ${row.os}'s constants; errno from ${memory.errno}()`, () => {
      const fake = new FakeFfi(row.os, row.arch, row.missing);
      const FD = 5;
      const UID = 501;
      const mapping = new FakePointer(new ArrayBuffer(64), 0);
      /** What fstat(2) reports: filled into the caller's struct stat at this row's offsets. */
      const file = { mode: 0o100600, uid: UID, size: 0 };
      const fstat = (c: RecordedCall): number => {
        const p = pointerArg(c.args[1], "fstat's struct stat").pointer;
        assert.equal(p.buffer.byteLength - p.byteOffset, memory.stat.size, "a buffer of sizeof(struct stat)");
        const dv = new DataView(p.buffer as ArrayBuffer, p.byteOffset);
        dv.setUint16(memory.stat.st_mode, file.mode, LE);
        dv.setUint32(memory.stat.st_uid, file.uid, LE);
        dv.setBigInt64(memory.stat.st_size, BigInt(file.size), LE);
        return 0;
      };
      const answers: Record<string, number> = { shm_open: FD, geteuid: UID, [memory.grow]: 0, close: 0, munmap: 0, shm_unlink: 0 };
      fake.respond = (c) => (c.symbol === "fstat" ? fstat(c) : answers[c.symbol] ?? assert.fail(`unexpected ${c.symbol}`));
      fake.respondPointer = () => mapping;
      const region = openRegionWith(fake, "r", 64, { create: true, exclusive: true });
      assert.equal(region.futex.name, row.shared!.name);
      assert.equal(region.buffer, mapping.buffer);
      region.close();
      region.unlink();
      assert.deepEqual(fake.opened.map((o) => o.library), [row.library, memory.library]);
      const nowhere = { buffer: new ArrayBuffer(0), byteOffset: 0 };
      const want = [
        // shm_open(3): int shm_open(const char *name, int oflag, mode_t mode)
        call("shm_open", cString("/r"), memory.O_RDWR | memory.O_CREAT | memory.O_EXCL, 0o600),
        // fstat(2): int fstat(int fd, struct stat *buf) — type, owner, permissions, current size
        call("fstat", FD, { pointer: "byte 0 of some other buffer" }),
        // geteuid(2): uid_t geteuid(void) — the owner a region must have
        call("geteuid"),
        // posix_fallocate(3): int posix_fallocate(int fd, off_t offset, off_t len); ftruncate(2): int ftruncate(int fd, off_t length)
        memory.grow === "posix_fallocate" ? call("posix_fallocate", FD, 0, 64) : call("ftruncate", FD, 64),
        // mmap(2): void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)
        call("mmap", null, 64, PROT_READ | PROT_WRITE, MAP_SHARED, FD, 0),
        call("close", FD),
        // munmap(2): int munmap(void *addr, size_t len)
        call("munmap", { pointer: "the mapping" }, 64),
        // shm_unlink(3): int shm_unlink(const char *name)
        call("shm_unlink", cString("/r")),
      ];
      const got = fake.calls.map((c, i) => {
        const r = render(c, want[i], nowhere);
        return c.symbol === "munmap" && isPointerArg(c.args[0]) && c.args[0].pointer === mapping
          ? { ...r, args: [{ pointer: "the mapping" }, ...r.args.slice(1)] }
          : r;
      });
      assert.deepEqual(got, want);

      // The same struct stat read back: another owner, or a group-writable mode, is refused by name.
      for (const [uid, mode, shown] of [[0, 0o100600, "uid 0 with mode 0600"], [UID, 0o100660, `uid ${UID} with mode 0660`]] as const) {
        Object.assign(file, { uid, mode, size: 64 });
        fake.calls.length = 0;
        assert.throws(() => openRegionWith(fake, "r", 64), (e: unknown) => e instanceof SharedRegionPermissionError && e.message.includes(shown));
        assert.deepEqual(fake.calls.map((c) => c.symbol), ["shm_open", "fstat", "geteuid", "close"]);
      }
      Object.assign(file, { uid: UID, mode: 0o100600, size: 32 });
      assert.throws(() => openRegionWith(fake, "r", 64), { name: "RangeError", message: /has 32 bytes/ });

      // A failing shm_open reads errno through this OS's errno function and names it.
      const f = new FakeFfi(row.os, row.arch, row.missing);
      const errno = new FakePointer(new Int32Array([17]).buffer, 0); // EEXIST is 17 on every POSIX row
      f.respond = (c) => (c.symbol === "shm_open" ? -1 : 0);
      f.respondPointer = (c) => (c.symbol === memory.errno ? errno : assert.fail(`unexpected ${c.symbol}`));
      assert.throws(() => openRegionWith(f, "/taken", 64, { create: true, exclusive: true }), /shm_open failed: errno 17 EEXIST/);
      assert.deepEqual(f.calls.map((c) => c.symbol), ["shm_open", memory.errno]);
      f.respond = () => -1;
      assert.equal(unlinkRegionWith(f, "/gone"), false, "shm_unlink returning -1: there was no such name");
    });
  }
}

// ---------------------------------------------------------------------------------------------
// The futex_waitv path (Linux rows), against a fake kernel (tests/support/fake_ffi.ts FakeKernel):
//   long syscall(SYS_futex_waitv = 449, struct futex_waitv *waiters, unsigned int nr_futexes,
//                unsigned int flags = 0, struct timespec *timeout /* absolute */, clockid_t clockid);
//   struct futex_waitv { __u64 val; __u64 uaddr; __u32 flags; __u32 __reserved; };  (24 bytes)
// <linux/futex.h>: FUTEX2_SIZE_U32 0x02, FUTEX2_PRIVATE 128 (FUTEX_PRIVATE_FLAG); at most 128
// entries (FUTEX_WAITV_MAX); returns the index of a woken entry, else -1 with errno (EAGAIN when
// a word differs from its val, which must fit the size: a u32 zero-extended).
const FUTEX2_SIZE_U32 = 2;
const FUTEX2_PRIVATE = 128;

/** Until `cond` holds (macrotask turns), or fail after 5 s. */
async function until(cond: () => boolean, what: string): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > 5000) assert.fail(`never: ${what}`);
    await sleepAsync(1);
  }
}

/** Which of `ps` have settled, and how. */
async function settledOf<T>(ps: Promise<T>[]): Promise<(T | "pending")[]> {
  return await Promise.all(ps.map((p) => Promise.race([p, sleepAsync(0).then(() => "pending" as const)])));
}

/** The word's FUTEX_WAKE calls (by anyone: the test's wakes and the service's baton). */
function wakesOf(fake: FakeFfi, word: Place): number {
  return fake.calls.filter((c) =>
    c.symbol === "syscall" && c.args[0] !== 449 && (Number(c.args[2]) & 127) === FUTEX_WAKE &&
    isPointerArg(c.args[1]) && c.args[1].pointer.buffer === word.buffer && c.args[1].pointer.byteOffset === word.byteOffset
  ).length;
}

test("async waits: the Linux rows use futex_waitv (449 on x86_64 and aarch64), every other row the \"slices\" helpers", () => {
  for (const t of NATIVE_TABLE) {
    if (t.os !== "linux") {
      assert.equal(t.waitv, undefined, `${t.id}: no multi-word wait`);
      continue;
    }
    const w = t.waitv!;
    assert.equal(w.nr, 449);
    assert.deepEqual(w.symbols.syscall, sig(["i64", "pointer", "u32", "u32", "pointer", "i32"], "i64"));
    assert.deepEqual(w.symbols.__errno_location, sig([], "pointer"));
    assert.equal(w.privateFlags, FUTEX2_SIZE_U32 | FUTEX2_PRIVATE);
    assert.equal(w.sharedFlags, FUTEX2_SIZE_U32);
    assert.equal(w.ENOSYS, 38);
  }
});

for (const row of ROWS.filter((r) => r.os === "linux")) {
  for (const [shared, fl] of flavors(row)) {
    const label = `${row.id} ${fl.name}`;
    const kernelRig = () => {
      const r = rig(row, shared);
      r.fake.kernel = new FakeKernel();
      return { ...r, kernel: r.fake.kernel };
    };

    test(`${label}: waitAsync ("waitv" helper) sleeps in futex_waitv on its control word and each (word, expected) once; wake-one settles the oldest waiter, a change all`, async () => {
      const { fake, futex, view, word, kernel } = kernelRig();
      const ps = [futex.waitAsync(view, INDEX, EXPECTED), futex.waitAsync(view, INDEX, EXPECTED), futex.waitAsync(view, INDEX, EXPECTED)];
      await until(() => kernel.asleep().join() === "2", "the helper asleep on the control word and the one entry");
      const waitv = fake.calls.filter((c) => c.symbol === "syscall" && c.args[0] === 449).pop()!;
      assert.ok(waitv.async, "the helper makes it");
      assert.equal(waitv.args.length, 6);
      assert.equal(waitv.args[2], 2, "nr_futexes: the control word and one entry for three waits");
      assert.equal(waitv.args[3], 0, "flags: 0");
      assert.equal(waitv.args[5], 0, "clockid: CLOCK_REALTIME (0)");
      const t = pointerArg(waitv.args[4], "timeout");
      const abs = Number(t.bytes.getBigInt64(0, LE)) * 1e3 + Number(t.bytes.getBigInt64(8, LE)) / 1e6;
      assert.ok(Math.abs(abs - Date.now()) < 2000, "an absolute CLOCK_REALTIME timeout near now (the helper's poll)");
      const entries = pointerArg(waitv.args[1], "waiters").pointer;
      const e = new DataView(entries.buffer as ArrayBuffer, entries.byteOffset + 24, 24); // entry 1 (entry 0: control)
      assert.equal(e.getBigUint64(0, LE), BigInt(u32(EXPECTED)), "val: the expected u32, zero-extended");
      assert.equal(e.getBigUint64(8, LE), fake.address(fake.pointerTo(view, INDEX)), "uaddr: the word");
      assert.equal(e.getUint32(16, LE), FUTEX2_SIZE_U32 | (shared ? 0 : FUTEX2_PRIVATE), "flags: u32, private unless cross-process");
      assert.equal(e.getUint32(20, LE), 0, "__reserved: 0");

      futex.wakeOne(view, INDEX);
      await until(() => kernel.asleep().join() === "2", "re-armed for the two left");
      assert.deepEqual(await settledOf(ps), ["ok", "pending", "pending"]);
      futex.wakeAll(view, INDEX); // one entry, woken once: one more waiter
      await until(() => kernel.asleep().join() === "2", "re-armed for the one left");
      assert.deepEqual(await settledOf(ps), ["ok", "ok", "pending"]);
      Atomics.store(view, INDEX, EXPECTED + 1);
      futex.wakeOne(view, INDEX);
      assert.deepEqual(await Promise.all(ps), ["ok", "ok", "not-equal"]);
      assert.ok(kernel.waitvSizes.every((n) => n >= 1 && n <= 128));
      futex.close();
    });

    test(`${label}: a wait aborted after its entry took a wake passes exactly one wake on (the baton); one aborted before passes none`, async () => {
      const { futex, view, word, kernel, fake } = kernelRig();
      const ac = new AbortController();
      const p = futex.waitAsync(view, INDEX, EXPECTED, undefined, ac.signal);
      await until(() => kernel.asleep().join() === "2", "asleep");
      futex.wakeOne(view, INDEX); // the helper's entry takes it …
      ac.abort(); // … but the wait leaves before the report arrives
      assert.equal(await p, "ok");
      await until(() => wakesOf(fake, word) === 2, "the baton: a second FUTEX_WAKE(1) on the word");
      await sleepAsync(20);
      assert.equal(wakesOf(fake, word), 2, "exactly one passed on");

      const quiet = kernelRig();
      const ac2 = new AbortController();
      const q = quiet.futex.waitAsync(quiet.view, INDEX, EXPECTED, undefined, ac2.signal);
      await until(() => quiet.kernel.asleep().join() === "2", "asleep");
      ac2.abort();
      assert.equal(await q, "ok");
      await until(() => quiet.kernel.asleep().join() === "1", "the entry left the helper's list");
      assert.equal(wakesOf(quiet.fake, quiet.word), 0, "no wake taken, none passed on");
      futex.close();
      quiet.futex.close();
    });

    test(`${label}: more than ${SLOTS} distinct words start a second helper (no futex_waitv over 128 entries); close() rejects what is pending`, async () => {
      const { fake, futex, kernel } = kernelRig();
      const v = new Int32Array(new SharedArrayBuffer(4 * 130));
      v.fill(EXPECTED);
      const ps = Array.from({ length: 130 }, (_, i) => futex.waitAsync(v, i, EXPECTED));
      await until(() => kernel.asleep().sort().join() === "128,4", "two helpers asleep: 127 + 3 words");
      const key = Object.keys(serviceStats(fake)).find((k) => k.includes(fl.name + "/waitv"))!;
      assert.equal(serviceStats(fake)[key].helpers, 2);
      assert.ok(kernel.waitvSizes.every((n) => n <= 128));
      for (let i = 0; i < 65; i++) Atomics.store(v, i, 0);
      for (let i = 0; i < 65; i++) futex.wakeAll(v, i);
      assert.deepEqual(await Promise.all(ps.slice(0, 65)), Array(65).fill("not-equal"));
      futex.close();
      for (const p of ps.slice(65)) await assert.rejects(p, FutexClosedError);
      assert.equal(serviceStats(fake)[key].waiters, 0);
    });

    test(`${label}: a kernel without futex_waitv (ENOSYS) falls back to the "slices" helpers`, async () => {
      const { fake, futex, view, kernel } = kernelRig();
      kernel.noWaitv = true;
      const p = futex.waitAsync(view, INDEX, EXPECTED);
      const s = Object.values(serviceStats(fake))[0];
      assert.equal(s.path, "slices");
      assert.match(s.fallbackReason ?? "", /ENOSYS/);
      await until(() => kernel.asleep().length === 1, "the slices helper asleep on the word");
      Atomics.store(view, INDEX, EXPECTED + 1);
      futex.wakeOne(view, INDEX);
      assert.equal(await p, "not-equal");
      futex.close();
    });
  }
}

test("macOS: os_sync_* when libSystem has it, __ulock_* when it does not; a permission refusal is not retried", () => {
  assert.equal(bindNativeFutex(new FakeFfi("darwin", "arm64")).row, "darwin-os_sync");
  assert.equal(bindNativeFutex(new FakeFfi("darwin", "arm64", ["os_sync_wake_by_address_any"])).row, "darwin-ulock");
  const nothing = new FakeFfi("darwin", "arm64", ["os_sync_wake_by_address_any", "__ulock_wait"]);
  assert.throws(() => bindNativeFutex(nothing), (e: unknown) => {
    assert.match((e as Error).message, /could not open a native futex on darwin\/arm64: tried darwin-os_sync .*, darwin-ulock/);
    assert.match(String((e as Error).cause), /__ulock_wait/);
    return true;
  });
  const refused = new FakeFfi("darwin", "arm64", [], new FfiPermissionError("run with --allow-ffi"));
  assert.throws(() => bindNativeFutex(refused), FfiPermissionError);
});

test("Windows: a cross-process futex or region is refused with the reason (WaitOnAddress wakes only this process)", () => {
  assert.throws(() => bindNativeFutex(new FakeFfi("win32", "arm64"), { crossProcess: true }), {
    name: "TypeError",
    message: /no cross-process futex.*same process/,
  });
  assert.throws(() => openRegionWith(new FakeFfi("win32", "x64"), "/r", 64, { create: true }), {
    name: "UnsupportedPlatformError",
    message: /no cross-process shared memory on windows.*no cross-process futex/,
  });
});

test("an FFI call that throws is passed on by wait and wake", () => {
  const { fake, futex, view } = rig(ROWS[0], false);
  const boom = new Error("segfault averted");
  fake.respond = () => {
    throw boom;
  };
  assert.throws(() => futex.wait(view, INDEX, EXPECTED), (e) => e === boom);
  assert.throws(() => futex.wakeOne(view, INDEX), (e) => e === boom);
});

// ---------------------------------------------------------------------------------------------
// The wait service's fires and re-checks, on the fake kernel (one Linux row, both async paths).

const LINUX = ROWS.find((r) => r.os === "linux")!;

/** A rig with the fake kernel and a forced async path. */
function pathRig(path: "waitv" | "slices") {
  const r = rig(LINUX, false, 5, path);
  r.fake.kernel = new FakeKernel();
  return { ...r, kernel: r.fake.kernel };
}

/** `p`'s result, or "pending" after `ms`. */
function within<T>(p: Promise<T>, ms: number): Promise<T | "pending"> {
  return Promise.race([p, sleepAsync(ms).then(() => "pending" as const)]);
}

for (const path of ["waitv", "slices"] as const) {
  test(`${path}: a wait that leaves after the helper fired its entry WOKEN, before this thread handled the report, passes the wake on (the retiring slot's baton)`, async () => {
    const { fake, futex, view, word, kernel } = pathRig(path);
    const ac = new AbortController();
    const p = futex.waitAsync(view, INDEX, EXPECTED, undefined, ac.signal);
    const address = fake.address(fake.pointerTo(view, INDEX));
    await until(() => fake.helpers.length === 1 && kernel.asleep().length === 1 && (kernel.asleep()[0] === 2 || path === "slices"), "the helper asleep");
    // A wake the helper's sleep on the word takes (the "slices" helper may be between two turns: again until one is).
    for (const t0 = performance.now(); ;) {
      futex.wakeOne(view, INDEX);
      if ((kernel.woken.get(address) ?? 0) > 0) break;
      if (performance.now() - t0 > 5000) assert.fail("the helper never slept on the word");
      await sleepAsync(1);
    }
    const before = wakesOf(fake, word);
    // The helper runs on promises in this thread: a few microtask turns and it has fired the
    // entry and bumped REPORT, while this thread's Atomics.waitAsync on REPORT (a task) has not run.
    const i32 = new Int32Array(fake.helpers[0].init.sab);
    for (let n = 0; n < 100 && Atomics.load(i32, FIRED_GEN + 1) !== Atomics.load(i32, GEN + 1); n++) await Promise.resolve();
    assert.equal(Atomics.load(i32, FIRED_GEN + 1), Atomics.load(i32, GEN + 1), "the entry fired");
    assert.equal(Object.values(serviceStats(fake))[0].waiters, 1, "the report is not handled yet");
    ac.abort(); // the last waiter leaves: the slot retires with a wake it took and nobody used
    assert.equal(await p, "ok");
    await until(() => wakesOf(fake, word) === before + 1, "the baton: one FUTEX_WAKE on the word");
    await sleepAsync(30);
    assert.equal(wakesOf(fake, word), before + 1, "exactly one passed on");
    futex.close();
  });
}

test("waitv: a word changed without a wake is seen at the next futex_waitv (EAGAIN): its waiters settle \"not-equal\", the unchanged words' waiters re-arm and sleep on", async () => {
  const { futex, view, kernel } = pathRig("waitv");
  view.fill(EXPECTED);
  const a = futex.waitAsync(view, INDEX, EXPECTED);
  const b = futex.waitAsync(view, 2, EXPECTED);
  await until(() => kernel.asleep().join() === "3", "the helper asleep on the control word and two entries");
  Atomics.store(view, 2, EXPECTED + 1); // no wake
  const c = futex.waitAsync(view, 3, EXPECTED); // a registration: the helper rebuilds, its futex_waitv sees word 2 differ
  assert.equal(await within(b, 2000), "not-equal");
  await until(() => kernel.asleep().join() === "3", "asleep again on the control word and the two unchanged entries");
  assert.deepEqual(await settledOf([a, c]), ["pending", "pending"], "a re-check of an unchanged word settles nobody");
  futex.close();
  await assert.rejects(a, FutexClosedError);
  await assert.rejects(c, FutexClosedError);
});

test("slices: a word changed without a wake is seen at the helper's next turn on it (an early return: re-check), and its waiter settles \"not-equal\"", async () => {
  const { futex, view, kernel, wordCalls } = pathRig("slices");
  const p = futex.waitAsync(view, INDEX, EXPECTED);
  await until(() => kernel.asleep().length === 1 && wordCalls().some((c) => c.async), "the helper asleep on the word");
  Atomics.store(view, INDEX, EXPECTED + 1); // no wake: the slice ends, the next turn finds the word changed
  assert.equal(await within(p, 2000), "not-equal");
  futex.close();
});
