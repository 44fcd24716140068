/**
 * A recording fake of the binder's FFI layer (the `FfiBackend` of adapters/native/bind.ts), so
 * that every row of the native table runs on any host: it pretends to be an OS and architecture,
 * "opens" a library by checking the symbols asked for, records each call (symbol, arguments with
 * pointers snapshotted at call time) and answers with whatever the test scripts. It marshals
 * like an FFI would: a call must name a declared symbol, pass exactly its parameters, and every
 * value must fit its C type (an `i32` in 32 signed bits, a `u64` non-negative, a pointer a
 * pointer or NULL), so a wrongly signed or wrongly typed argument fails loudly.
 *
 * It knows nothing of any OS: decoding a pointer as a `struct timespec` or a `struct _umtx_time`
 * is left to the test, which does it from the man page.
 */

import type { FfiBackend, FfiLibrary } from "../../adapters/native/bind.ts";
import type { NativeType, SymbolSpec } from "../../adapters/native/table.ts";
import { runHelper } from "../../adapters/native/wait_helper.ts";
import type { HelperHandle, HelperInit } from "../../adapters/native/wait_service.ts";

let nextAddress = 0x10000n;
/** Every buffer a fake pointer was made into starts at a fixed fake address, so one word has one address. */
const bases = new WeakMap<ArrayBufferLike, bigint>();
/** Fake addresses back to their pointers (FfiBackend.pointerAt). */
const byAddress = new Map<bigint, FakePointer>();

/** The fake pointer to `byteOffset` of `buffer`: the same address for the same byte. */
export function fakePointer(buffer: ArrayBufferLike, byteOffset: number): FakePointer {
  let base = bases.get(buffer);
  if (base === undefined) {
    base = nextAddress += 0x1000000n;
    bases.set(buffer, base);
  }
  const address = base + BigInt(byteOffset);
  let p = byAddress.get(address);
  if (p === undefined || p.buffer !== buffer) byAddress.set(address, p = new FakePointer(buffer, byteOffset, address));
  return p;
}

/** A fake pointer: `byteOffset` into `buffer` (a word's SharedArrayBuffer, the binder's scratch, a mapping). */
export class FakePointer {
  readonly buffer: ArrayBufferLike;
  readonly byteOffset: number;
  readonly address: bigint;
  constructor(buffer: ArrayBufferLike, byteOffset: number, address: bigint = (nextAddress += 0x100n)) {
    this.buffer = buffer;
    this.byteOffset = byteOffset;
    this.address = address;
  }
}

/** A pointer argument as it was when the call was made: where it points and the bytes there. */
export interface PointerArg {
  readonly pointer: FakePointer;
  /** Up to 32 bytes from the pointer, copied at call time (the binder reuses its scratch). */
  readonly bytes: DataView;
}

/** One recorded call. Pointer arguments are {@link PointerArg}s, NULL is `null`, integers are kept as passed. */
export interface RecordedCall {
  readonly symbol: string;
  readonly args: readonly unknown[];
  /** True for a call made by an async-wait helper (which may be answered with a promise). */
  readonly async: boolean;
}

/** What a scripted call answers: a return value, or a promise of one for async calls. */
export type Responder = (call: RecordedCall) => number | Promise<number>;

export function isPointerArg(v: unknown): v is PointerArg {
  return typeof v === "object" && v !== null && (v as PointerArg).pointer instanceof FakePointer;
}

const RANGES: Record<Exclude<NativeType, "pointer" | "void">, [bigint, bigint]> = {
  i32: [-(2n ** 31n), 2n ** 31n - 1n],
  u32: [0n, 2n ** 32n - 1n],
  i64: [-(2n ** 63n), 2n ** 63n - 1n],
  u64: [0n, 2n ** 64n - 1n],
};

function marshal(symbol: string, sig: SymbolSpec, args: unknown[]): unknown[] {
  if (args.length !== sig.parameters.length) {
    throw new TypeError(`${symbol}: ${args.length} arguments for ${sig.parameters.length} parameters`);
  }
  return args.map((a, i) => {
    const t = sig.parameters[i];
    if (t === "pointer") {
      if (a === null) return null;
      if (!(a instanceof FakePointer)) throw new TypeError(`${symbol} argument ${i}: ${String(a)} is not a pointer`);
      // A mapping's buffer is detached by close() before munmap gets its pointer: no bytes then.
      const len = Math.max(0, Math.min(32, a.buffer.byteLength - a.byteOffset));
      const copy = new Uint8Array(len);
      if (len > 0) copy.set(new Uint8Array(a.buffer, a.byteOffset, len));
      return { pointer: a, bytes: new DataView(copy.buffer) } satisfies PointerArg;
    }
    if (t === "void") throw new TypeError(`${symbol}: void parameter`);
    const isInt = typeof a === "bigint" || (typeof a === "number" && Number.isInteger(a));
    if (!isInt) throw new TypeError(`${symbol} argument ${i}: ${String(a)} is not an integer for ${t}`);
    const v = BigInt(a as number | bigint);
    const [lo, hi] = RANGES[t];
    if (v < lo || v > hi) throw new TypeError(`${symbol} argument ${i}: ${String(a)} does not fit ${t}`);
    return a;
  });
}

/** The fake: an {@link FfiBackend} plus what the test scripts and reads. */
export class FakeFfi implements FfiBackend {
  readonly runtime = "fake-ffi";
  /** Every call, in order. */
  readonly calls: RecordedCall[] = [];
  /** Libraries opened, with the symbols asked for. */
  readonly opened: { library: string; symbols: Readonly<Record<string, SymbolSpec>> }[] = [];
  /** A bound on recorded calls, so a binder that never stops calling fails instead of hanging. */
  maxCalls = 100_000;
  /** Answers wait and wake calls; the default answers 0. */
  respond: Responder = () => 0;
  /** Answers pointer-returning calls (mmap, the errno location). */
  respondPointer: (call: RecordedCall) => FakePointer | null = () => null;
  /**
   * Answer Linux futex calls like a kernel (see {@link FakeKernel}): FUTEX_WAIT / FUTEX_WAKE and
   * futex_waitv over fake memory, waits as promises. Off: `respond` answers everything.
   */
  kernel: FakeKernel | undefined;
  /** Helpers started (each runs wait_helper.ts in this thread, its calls answered by promises). */
  readonly helpers: { init: HelperInit; stop(): void; done: Promise<void>; error?: Error }[] = [];

  /**
   * @param os the OS the fake pretends to be, spelled as a runtime does ("linux", "win32", "darwin", …)
   * @param arch the architecture, likewise ("x64", "arm64", "x86_64", …)
   * @param missing symbols this "OS" lacks: opening a library that needs one fails as dlopen would
   * @param openError thrown by every open instead (a permission refusal, …)
   */
  readonly os: string;
  readonly arch: string;
  readonly missing: readonly string[];
  readonly openError?: Error;
  constructor(os: string, arch: string, missing: readonly string[] = [], openError?: Error) {
    this.os = os;
    this.arch = arch;
    this.missing = missing;
    this.openError = openError;
  }

  /** The calls of one symbol. */
  callsOf(symbol: string): RecordedCall[] {
    return this.calls.filter((c) => c.symbol === symbol);
  }

  open(library: string, symbols: Readonly<Record<string, SymbolSpec>>): FfiLibrary {
    return this.#open(library, symbols, false);
  }

  #open(library: string, symbols: Readonly<Record<string, SymbolSpec>>, helper: boolean): FfiLibrary {
    if (this.openError) throw this.openError;
    const names = Object.keys(symbols);
    const absent = names.find((s) => this.missing.includes(s));
    if (absent) throw new Error(`Failed to register symbol ${absent}: symbol not found in ${library}`);
    if (!helper) this.opened.push({ library, symbols });
    const record = (symbol: string, args: unknown[], async: boolean): RecordedCall => {
      if (this.calls.length >= this.maxCalls) throw new Error(`${symbol}: more than ${this.maxCalls} calls — the binder is looping`);
      const sig = symbols[symbol];
      if (!sig) throw new TypeError(`${symbol} was not declared when ${library} was opened`);
      const call = { symbol, args: marshal(symbol, sig, args), async };
      this.calls.push(call);
      return call;
    };
    const answer = (call: RecordedCall): number | Promise<number> => {
      const k = this.kernel?.answer(call);
      return k !== undefined ? k : this.#helperControl(call) ?? this.respond(call);
    };
    if (helper) {
      return {
        call: (symbol, args) => answer(record(symbol, args, true)) as number, // the helper loop awaits it
        callPointer: (symbol, args) => this.kernel?.errnoPointer ?? this.respondPointer(record(symbol, args, true)),
      };
    }
    return {
      call: (symbol, args) => {
        const r = answer(record(symbol, args, false));
        if (typeof r !== "number") throw new TypeError(`${symbol}: a blocking call was answered with a promise`);
        return r;
      },
      callPointer: (symbol, args) => {
        if (symbol === "__errno_location" && this.kernel) return this.kernel.errnoPointer;
        return this.respondPointer(record(symbol, args, false));
      },
    };
  }

  /**
   * A call on a helper's own control word (not a test's word): the owner's wake answers 0; the
   * helper's wait sleeps until the word moves or 50 ms pass.
   */
  #helperControl(call: RecordedCall): number | Promise<number> | undefined {
    const p = call.args.find(isPointerArg);
    if (!p || !this.helpers.some((h) => h.init.sab === p.pointer.buffer) || p.pointer.byteOffset !== 0) return undefined;
    if (!call.async) return 0;
    const ctl = new Int32Array(p.pointer.buffer as SharedArrayBuffer, 0, 1);
    const seen = p.bytes.byteLength >= 4 ? p.bytes.getInt32(0, true) : 0;
    const r = Atomics.waitAsync(ctl, 0, seen, 50);
    return (r.async ? r.value : Promise.resolve(r.value)).then(() => 0);
  }

  startHelper(init: HelperInit): HelperHandle {
    let stopped = false;
    const listeners: ((e?: Error) => void)[] = [];
    const entry: FakeFfi["helpers"][number] = { init, stop: () => (stopped = true), done: Promise.resolve() };
    const backend = {
      open: (library: string, symbols: Readonly<Record<string, SymbolSpec>>) => this.#open(library, symbols, true),
      pointerTo: (v: Int32Array | BigInt64Array | Uint8Array, i: number) => this.pointerTo(v, i),
      pointerAt: (a: bigint) => this.pointerAt(a),
      address: (p: unknown) => this.address(p),
      load32: (p: unknown) => this.load32(p),
    };
    this.helpers.push(entry);
    // Started on a later turn, as a worker would be: the first wait is registered by then.
    entry.done = Promise.resolve().then(() =>
      runHelper(init, { backend, stopped: () => stopped, pause: () => sleepAsync(0) })
    ).then(
      () => listeners.forEach((l) => l()),
      (e: Error) => {
        entry.error = e;
        listeners.forEach((l) => l(e));
      },
    );
    return {
      onExit: (l) => listeners.push(l),
      terminate: () => (stopped = true),
    };
  }

  pointerTo(view: Int32Array | BigInt64Array | Uint8Array, index: number): unknown {
    return fakePointer(view.buffer, view.byteOffset + index * view.BYTES_PER_ELEMENT);
  }

  pointerAt(address: bigint): unknown {
    const p = byAddress.get(address);
    if (!p) throw new TypeError(`pointerAt: no fake pointer at 0x${address.toString(16)}`);
    return p;
  }

  load32(pointer: unknown): number {
    const p = pointer as FakePointer;
    return new DataView(p.buffer as ArrayBuffer).getInt32(p.byteOffset, LE);
  }

  bufferAt(pointer: unknown, length: number): ArrayBuffer {
    const p = pointer as FakePointer;
    if (!(p instanceof FakePointer) || p.byteOffset !== 0 || p.buffer.byteLength !== length || !(p.buffer instanceof ArrayBuffer)) {
      throw new TypeError(`bufferAt: ${String(pointer)} is not the start of a ${length}-byte fake mapping`);
    }
    return p.buffer;
  }

  address(pointer: unknown): bigint {
    return pointer === null ? 0n : (pointer as FakePointer).address;
  }
}

/** Sleep `ms` on this thread, as a blocking OS wait would. */
export function sleepSync(ms: number): void {
  if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Resolve after `ms`, as a nonblocking OS wait would. */
export function sleepAsync(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const LE = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

interface Sleeper {
  /** Resolves the whole wait (FUTEX_WAIT: 0; futex_waitv: the entry's index). */
  wake(index: number): void;
  done: boolean;
  readonly entries: { address: bigint; index: number }[];
}

/**
 * Linux futex semantics over fake memory, for the async path under the fake FFI: FUTEX_WAIT
 * (202/98, op 0) compares and sleeps until a FUTEX_WAKE (op 1) of its address or its relative
 * timeout; futex_waitv (449) compares every entry and sleeps on all until one is woken (its
 * index) or the absolute CLOCK_REALTIME timeout; a wake wakes at most `val` sleepers, oldest
 * first, one futex_waitv counting once. -1 sets errno (EAGAIN 11, ETIMEDOUT 110) in the cell
 * `__errno_location` returns. A blocking (not helper) FUTEX_WAIT never sleeps: it times out.
 */
export class FakeKernel {
  readonly #errno = new Int32Array(new SharedArrayBuffer(8));
  readonly errnoPointer: FakePointer = fakePointer(this.#errno.buffer, 0);
  readonly #queues = new Map<bigint, { s: Sleeper; index: number }[]>();
  /** Wakes delivered, by address (tests read them). */
  readonly woken = new Map<bigint, number>();
  /** futex_waitv calls seen, with their entry counts. */
  readonly waitvSizes: number[] = [];
  /** Pretend to be a kernel older than 5.16: futex_waitv fails with ENOSYS. */
  noWaitv = false;
  readonly #sleepers = new Set<Sleeper>();

  /** Waits asleep now (a futex_waitv counts once), with their entry counts. */
  asleep(): number[] {
    return [...this.#sleepers].map((s) => s.entries.length);
  }

  answer(call: RecordedCall): number | Promise<number> | undefined {
    if (call.symbol !== "syscall") return undefined;
    const nr = Number(call.args[0]);
    if (nr === 449) return this.#waitv(call);
    if (nr !== 202 && nr !== 98) return undefined;
    const word = call.args[1] as PointerArg;
    const op = Number(call.args[2]) & 127;
    if (op === 1) return this.wake(word.pointer.address, Number(call.args[3]));
    if (op !== 0) return undefined;
    if (this.#load(word.pointer) !== (Number(call.args[3]) | 0)) return this.#fail(11);
    if (!call.async) return this.#fail(110);
    const t = call.args[4] as PointerArg | null;
    const ms = t ? Number(t.bytes.getBigInt64(0, LE)) * 1e3 + Number(t.bytes.getBigInt64(8, LE)) / 1e6 : Infinity;
    return this.#sleep([{ address: word.pointer.address, index: 0 }], ms);
  }

  /** FUTEX_WAKE: wake up to `n` sleepers on `address`; the number woken. */
  wake(address: bigint, n: number): number {
    const q = this.#queues.get(address) ?? [];
    let count = 0;
    while (count < n && q.length > 0) {
      const { s, index } = q.shift()!;
      if (s.done) continue;
      s.wake(index);
      count++;
    }
    this.woken.set(address, (this.woken.get(address) ?? 0) + count);
    return count;
  }

  #waitv(call: RecordedCall): number | Promise<number> {
    if (this.noWaitv) return this.#fail(38);
    const p = (call.args[1] as PointerArg).pointer;
    const n = Number(call.args[2]);
    this.waitvSizes.push(n);
    const raw = new BigInt64Array(p.buffer as SharedArrayBuffer, p.byteOffset, 3 * n);
    const entries: { address: bigint; index: number }[] = [];
    for (let i = 0; i < n; i++) {
      const val = Number(BigInt.asUintN(64, raw[3 * i]));
      const address = BigInt.asUintN(64, raw[3 * i + 1]);
      const flags = Number(raw[3 * i + 2] & 0xffffffffn);
      if (val > 0xffffffff || (flags & 2) === 0) return this.#fail(22);
      if ((this.#load(byAddress.get(address)!) >>> 0) !== val) return this.#fail(11);
      entries.push({ address, index: i });
    }
    const t = call.args[4] as PointerArg | null;
    const ms = t ? Number(t.bytes.getBigInt64(0, LE)) * 1e3 + Number(t.bytes.getBigInt64(8, LE)) / 1e6 - Date.now() : Infinity;
    return this.#sleep(entries, ms);
  }

  #sleep(entries: { address: bigint; index: number }[], ms: number): Promise<number> {
    return new Promise<number>((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const s: Sleeper = {
        done: false,
        entries,
        wake: (index) => {
          if (s.done) return;
          s.done = true;
          this.#sleepers.delete(s);
          if (timer !== undefined) clearTimeout(timer);
          for (const e of entries) {
            const q = this.#queues.get(e.address)!;
            const at = q.findIndex((x) => x.s === s);
            if (at >= 0) q.splice(at, 1);
          }
          resolve(index);
        },
      };
      this.#sleepers.add(s);
      for (const e of entries) {
        let q = this.#queues.get(e.address);
        if (!q) this.#queues.set(e.address, q = []);
        q.push({ s, index: e.index });
      }
      if (ms !== Infinity) {
        timer = setTimeout(() => {
          s.wake(-1);
          this.#errno[0] = 110;
        }, Math.max(0, ms));
      }
    });
  }

  #load(p: FakePointer): number {
    return new DataView(p.buffer as ArrayBuffer).getInt32(p.byteOffset, LE);
  }

  #fail(errno: number): number {
    this.#errno[0] = errno;
    return -1;
  }
}

