/**
 * `npm run demo`: two workers hand a turn back and forth through ManualResetEvents, and the same
 * hand-off through a hand-written Atomics.wait/notify loop, in the same run. Prints the time per
 * hand-off of each (median of interleaved repetitions) and the ratio to the raw loop.
 *
 * Usage: node build/scripts/bench/demo.js [--rounds N] [--reps N]
 *        (also runs as deno run -A scripts/bench/demo.ts, bun scripts/bench/demo.ts)
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { Worker } from "node:worker_threads";
import { DEFAULT_SPINS, hasAtomicsPause, ManualResetEvent } from "../../mod.ts";
import { median } from "../lib/stats.ts";

const g = globalThis as Record<string, unknown>;
const runtimeName = g.Deno ? "deno" : g.Bun ? "bun" : "node";
const ext = import.meta.url.endsWith(".ts") ? ".ts" : ".js";
const { values: opts } = parseArgs({
  args: process.argv.slice(2),
  options: { rounds: { type: "string", default: "20000" }, reps: { type: "string", default: "3" } },
});
const count = (name: "rounds" | "reps"): number => {
  const v = Number(opts[name]);
  if (!(Number.isInteger(v) && v > 0)) throw new RangeError(`--${name} must be a whole number > 0 (got ${opts[name]})`);
  return v;
};
const rounds = count("rounds");
const reps = count("reps");

interface Mode {
  label: string;
  mode: "raw" | "event";
  spin?: number;
}
const modes: Mode[] = [
  { label: "raw Atomics.wait/notify loop", mode: "raw" },
  { label: "ManualResetEvent, spin off", mode: "event", spin: 0 },
  { label: `ManualResetEvent, default spin (${DEFAULT_SPINS})`, mode: "event" },
];

function once(m: Mode): Promise<number> {
  const sab = new SharedArrayBuffer(256);
  new ManualResetEvent({ buffer: sab, byteOffset: 128 });
  new ManualResetEvent({ buffer: sab, byteOffset: 192 });
  const url = new URL(`./demo_worker${ext}`, import.meta.url);
  const sides = (["ping", "pong"] as const).map((side) =>
    new Worker(url, { workerData: { side, mode: m.mode, spin: m.spin, rounds, sab } })
  );
  const results = sides.map((w) =>
    new Promise<number>((resolve, reject) => {
      w.once("message", (r: { ms: number }) => resolve(r.ms));
      w.once("error", reject);
    })
  );
  return Promise.all(results).then(async ([pingMs]) => {
    await Promise.all(sides.map((w) => w.terminate()));
    return (pingMs * 1e6) / (rounds * 2); // ns per hand-off (a round trip is two)
  });
}

console.log(
  `@futex/sync demo — ${runtimeName} ${process.version}, Atomics.pause ${hasAtomicsPause ? "yes" : "no"}; ` +
    `${rounds} round trips × ${reps} interleaved repetitions per row`,
);
const samples: number[][] = modes.map(() => []);
for (let r = 0; r < reps; r++) {
  for (let i = 0; i < modes.length; i++) {
    samples[i].push(await once(modes[i]));
    process.stdout.write(".");
  }
}
process.stdout.write("\n\n");
const raw = median(samples[0]);
console.log("| hand-off between two workers | ns per hand-off (median) | min–max | vs raw |");
console.log("|---|---:|---:|---:|");
modes.forEach((m, i) => {
  const med = median(samples[i]);
  const lo = Math.min(...samples[i]), hi = Math.max(...samples[i]);
  console.log(`| ${m.label} | ${Math.round(med)} | ${Math.round(lo)}–${Math.round(hi)} | ${(med / raw).toFixed(2)}× |`);
});
console.log("\n(lower is better; a ratio below 1 means faster than the raw loop)");
