/**
 * Benchmark results → what people read: the Markdown tables, the verdicts against the
 * performance targets (docs/benchmarks.md) and an SVG chart. Pure functions over the JSON that
 * scripts/bench/suite.ts writes per runtime.
 */

import { median } from "../lib/stats.ts";

/** One measured variant in one runtime. */
export interface BenchRow {
  section: string;
  id: string;
  label: string;
  unit: string;
  /** One value per interleaved repetition (same index = same repetition across a section). */
  samples: number[];
  median: number;
  /** Row this one is compared with, and the median of the per-repetition ratios to it. */
  baseline?: string;
  ratio?: number;
  /** The median repetition's extra data (wakesPerOp, per-worker counts). */
  extra?: Record<string, unknown>;
}

/** Everything one runtime measured. */
export interface RuntimeResult {
  runtime: string;
  version: string;
  platform: string;
  cores: number;
  quick: boolean;
  seconds: number;
  rows: BenchRow[];
  notes: string[];
}

/** One performance target in one runtime. */
export interface Verdict {
  target: string;
  runtime: string;
  /** What was compared, e.g. "Mutex / naive". */
  measure: string;
  /** The median of the per-repetition values (ratios), which the verdict is on. */
  value: number;
  /** The smallest and largest per-repetition value: the spread of `value`. */
  lo: number;
  hi: number;
  /** Interleaved repetitions behind the value (a verdict needs at least 3, unless `exact`). */
  reps: number;
  /** An exact quantity (bytes, calls per op): one measurement is the value. */
  exact: boolean;
  /** "≤" or "≥" and the bound. */
  op: "≤" | "≥";
  bound: number;
  /** The median meets the bound (and there were at least 3 repetitions). */
  met: boolean;
  /** Every repetition agrees with the verdict (the spread does not cross the bound). */
  firm: boolean;
}

/** Repetitions a verdict needs: with fewer, one noisy repetition decides it. */
export const MIN_VERDICT_REPS = 3;

/** Median of per-repetition ratios a/b (the rows were measured interleaved in one section). */
export function ratioOf(a: BenchRow, b: BenchRow): number {
  return median(ratios(a, b));
}

/** The per-repetition ratios a/b (same index = same interleaved repetition). */
export function ratios(a: BenchRow, b: BenchRow): number[] {
  const n = Math.min(a.samples.length, b.samples.length);
  return Array.from({ length: n }, (_, k) => a.samples[k] / b.samples[k]);
}

const fmt = (x: number): string =>
  !Number.isFinite(x) ? "—" : x >= 1000 ? Math.round(x).toLocaleString("en-US") : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2);
const fmtRatio = (x: number | undefined): string => (x === undefined || !Number.isFinite(x) ? "" : `${x.toFixed(2)}×`);

function detail(row: BenchRow): string {
  const e = row.extra ?? {};
  const parts: string[] = [];
  if (typeof e.wakesPerOp === "number") parts.push(`${e.wakesPerOp} wakes/op`);
  if (typeof e.sleepsPer1k === "number") parts.push(`${e.sleepsPer1k} sleeps/1k`);
  if (typeof e.wakesPer1k === "number") parts.push(`${e.wakesPer1k} wakes/1k`);
  if (Array.isArray(e.counts)) {
    const counts = e.counts as number[];
    const total = counts.reduce((a, b) => a + b, 0);
    parts.push(`shares ${counts.map((c) => `${Math.round((100 * c) / total)}%`).join("/")}`);
  }
  return parts.join("; ");
}

/** One runtime's rows as a Markdown table. */
export function runtimeTable(r: RuntimeResult): string {
  const lines = [
    `### ${r.runtime} ${r.version} (${r.platform}, ${r.cores} cores${r.quick ? ", --quick" : ""})`,
    "",
    "| section | what | median | min–max | vs | ratio | notes |",
    "|---|---|---:|---:|---|---:|---|",
  ];
  for (const row of r.rows) {
    const lo = Math.min(...row.samples), hi = Math.max(...row.samples);
    lines.push(
      `| ${row.section} | ${row.label} | ${fmt(row.median)} ${row.unit} | ${fmt(lo)}–${fmt(hi)} | ${row.baseline ?? ""} | ${fmtRatio(row.ratio)} | ${detail(row)} |`,
    );
  }
  for (const n of r.notes) lines.push("", `- ${n}`);
  return lines.join("\n");
}

/** All runtimes side by side: one line per row id, each cell "median unit (ratio)". */
export function combinedTable(results: RuntimeResult[]): string {
  const ids: BenchRow[] = [];
  for (const r of results) for (const row of r.rows) if (!ids.some((x) => x.id === row.id)) ids.push(row);
  const head = results.map((r) => `${r.runtime} ${r.version}`);
  const lines = [
    `| what | ${head.join(" | ")} |`,
    `|---|${results.map(() => "---:").join("|")}|`,
  ];
  let section = "";
  for (const proto of ids) {
    if (proto.section !== section) {
      section = proto.section;
      lines.push(`| **${section}** |${results.map(() => "").join("|")}|`);
    }
    const cells = results.map((r) => {
      const row = r.rows.find((x) => x.id === proto.id);
      if (!row) return "—";
      const ratio = row.ratio !== undefined ? ` (${fmtRatio(row.ratio)} ${row.baseline!.split(".").slice(1).join(".")})` : "";
      const d = detail(row);
      return `${fmt(row.median)} ${row.unit}${ratio}${d ? `<br>${d}` : ""}`;
    });
    lines.push(`| ${proto.label.replace(/^(\d+ workers|\d+ threads|4 pairs on \d+ cores): /, "$1: ")} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

/** One verdict from per-repetition values: on their median, with their spread. */
function verdict(target: string, runtime: string, measure: string, per: number[], op: "≤" | "≥", bound: number, exact = false): Verdict {
  const ok = (x: number): boolean => (op === "≤" ? x <= bound : x >= bound);
  const value = median(per);
  const enough = exact || per.length >= MIN_VERDICT_REPS; // an exact count (bytes, calls) needs no repetitions
  const met = enough && ok(value);
  return {
    target, runtime, measure, value, lo: Math.min(...per), hi: Math.max(...per), reps: per.length, exact, op, bound, met,
    firm: enough && per.every((x) => ok(x) === met),
  };
}

/** Evaluate every performance target that these results can speak to. */
export function verdicts(results: RuntimeResult[]): Verdict[] {
  const out: Verdict[] = [];
  for (const r of results) {
    const row = (id: string): BenchRow | undefined => r.rows.find((x) => x.id === id);
    const check = (target: string, measure: string, a: string, b: string | null, op: "≤" | "≥", bound: number, invert = false): void => {
      const ra = row(a), rb = b === null ? undefined : row(b);
      if (!ra || (b !== null && !rb)) return;
      const per = (rb ? ratios(ra, rb) : ra.samples).map((x) => (invert ? 1 / x : x));
      out.push(verdict(target, r.runtime, measure, per, op, bound, b === null)); // no baseline: an exact quantity (bytes)
    };
    for (const [id, name] of [["set", "set on a set event"], ["wait", "wait on a set event"], ["mutex", "Mutex lock+unlock"], ["lockcnt", "LockCnt inc+dec"], ["semaphore", "Semaphore release+acquire"]]) {
      check("uncontended fast paths ≤ 1.3× their raw Atomics ops", `${name} / raw ops`, `fast.${id}`, `fast.${id}.raw`, "≤", 1.3);
      const w = row(`fast.${id}`)?.extra?.wakesPerOp;
      if (typeof w === "number") {
        out.push(verdict("uncontended fast paths: zero notify/wake calls", r.runtime, `${name}: calls per op`, [w], "≤", 0, true));
      }
    }
    check("event ping-pong, spin off ≤ 1.05× raw wait/notify", "event spin off / raw", "pp.event.spin0", "pp.raw", "≤", 1.05);
    check("event ping-pong, default spin ≥ 10× faster than raw", "raw / event default spin", "pp.event.spin", "pp.raw", "≥", 10, true);
    check("event ping-pong, default spin ≤ 2× pure busy-wait", "event default spin / busy-wait", "pp.event.spin", "pp.busy", "≤", 2);
    check("oversubscribed (4 pairs): default spin ≤ 1.1× spin off", "default spin / spin off", "over.event.spin", "over.event.spin0", "≤", 1.1);
    for (const p of ["mutex", "lockcnt"]) {
      const name = p === "mutex" ? "Mutex" : "LockCnt";
      check("contended, 2 workers: ≤ 0.7× naive 3-state Atomics mutex", `${name} / naive`, `lock2.${p}`, "lock2.naive", "≤", 0.7);
      check("contended, 2 workers: ≤ 2× C futex mutex", `${name} / C futex mutex`, `lock2.${p}`, "lock2.c", "≤", 2);
    }
    check("contended, 4 workers (oversubscribed): ≤ 1× naive 3-state mutex (proposed: spinning must not lose)", "Mutex / naive", "lock4.mutex", "lock4.naive", "≤", 1);
    check("contended, 4 workers (oversubscribed): ≤ 1× naive 3-state mutex (proposed: spinning must not lose)", "LockCnt / naive", "lock4.lockcnt", "lock4.naive", "≤", 1);
    check("Condition notify→wake ping-pong ≤ 1.3× raw seq-word condvar", "Mutex + Condition / inline raw", "cond.lib", "cond.raw", "≤", 1.3);
    check("Condition notify→wake ping-pong ≤ V8 Atomics.Condition", "Mutex + Condition / V8", "cond.lib", "cond.v8", "≤", 1);
    check("RwLock 4 readers + 1 writer ≥ 1.5× the throughput under one Mutex", "Mutex time / RwLock time", "rwlock.rwlock", "rwlock.mutex", "≥", 1.5, true);
    check("Semaphore producer→consumer ≤ 1.3× hand-written Atomics semaphores (proposed)", "Semaphore / raw semaphores", "sem.semaphore", "sem.naive", "≤", 1.3);
    check("native (FFI futex) ping-pong ≤ 1.3× C raw-futex ping-pong", "event on FFI futex / C raw futex", "native.event", "native.c.raw", "≤", 1.3);
    for (const x of r.rows.filter((x) => x.section === "cross-process" && x.baseline !== undefined && !x.id.includes(".spin"))) {
      check("cross-process event ping-pong ≤ 1.3× C↔C (same placement)", `${x.label} / C→C`, x.id, x.baseline!, "≤", 1.3);
    }
    for (const p of ["event", "mutex", "lockcnt", "semaphore"]) {
      check("memory: 4 bytes per primitive (semaphore ≤ 8)", `${p} bytes`, `mem.${p}`, null, "≤", p === "semaphore" ? 8 : 4);
    }
  }
  return out;
}

/** Verdicts as a Markdown table: one line per target and measure, one column per runtime. */
export function verdictTable(vs: Verdict[]): string {
  const runtimes = [...new Set(vs.map((v) => v.runtime))];
  const keys: Array<[string, string]> = [];
  for (const v of vs) if (!keys.some(([t, m]) => t === v.target && m === v.measure)) keys.push([v.target, v.measure]);
  const lines = [
    `| performance target | measured | ${runtimes.join(" | ")} |`,
    `|---|---|${runtimes.map(() => ":---:").join("|")}|`,
  ];
  for (const [target, measure] of keys) {
    const cells = runtimes.map((r) => {
      const v = vs.find((x) => x.runtime === r && x.target === target && x.measure === measure);
      if (!v) return "";
      const exact = measure.includes("bytes") || measure.includes("calls");
      const val = exact ? fmt(v.value) : `${v.value.toFixed(2)}×`;
      const spread = exact || v.lo === v.hi ? "" : ` (${v.lo.toFixed(2)}–${v.hi.toFixed(2)})`;
      const mark = !v.exact && v.reps < MIN_VERDICT_REPS ? "? (< 3 reps)" : v.met ? (v.firm ? "✓" : "✓~") : v.firm ? "✗" : "✗~";
      return v.met ? `${val}${spread} ${mark}` : `**${val}${spread} ${mark}**`;
    });
    lines.push(`| ${target} | ${measure} | ${cells.join(" | ")} |`);
  }
  const met = vs.filter((v) => v.met).length;
  const firmMet = vs.filter((v) => v.met && v.firm).length, firmMissed = vs.filter((v) => !v.met && v.firm).length;
  lines.push(
    "",
    `${met} of ${vs.length} target checks met (${firmMet} in every repetition), ${vs.length - met} missed (${firmMissed} in every ` +
      `repetition). Each verdict is on the median of ≥ ${MIN_VERDICT_REPS} interleaved repetitions, spread (min–max) in ` +
      "brackets: ✓ met in every repetition, ✓~ median met but some repetitions missed, ✗~ median missed but some " +
      "repetitions met, ✗ missed in every repetition.",
  );
  return lines.join("\n");
}

// ---------------------------------------------------------------- SVG

const COLORS: Record<string, string> = { node: "#3c873a", deno: "#1f6feb", bun: "#c8a000", "cross-process": "#8250df" };
const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

interface Bar {
  label: string;
  runtime: string;
  value: number;
  /** A target bound drawn as a tick on the bar's axis. */
  bound?: number;
  good?: boolean;
}

function panel(title: string, bars: Bar[], y0: number, width: number, log: boolean, unit: string): { svg: string; height: number } {
  const left = 330, right = width - 110, barH = 14, gap = 4;
  const vals = bars.flatMap((b) => [b.value, b.bound ?? b.value]).filter((x) => x > 0 && Number.isFinite(x));
  const max = Math.max(...vals) * 1.1, min = log ? Math.min(...vals) / 1.5 : 0;
  const xOf = (v: number): number => {
    if (log) return left + ((Math.log10(Math.max(v, min)) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))) * (right - left);
    return left + (v / max) * (right - left);
  };
  const parts = [`<text x="10" y="${y0 + 16}" font-weight="bold" font-size="14">${esc(title)}</text>`];
  let y = y0 + 28;
  let lastLabel = "";
  for (const b of bars) {
    if (b.label !== lastLabel) {
      parts.push(`<text x="${left - 6}" y="${y + barH - 3}" text-anchor="end" font-size="11">${esc(b.label)}</text>`);
      lastLabel = b.label;
    }
    const w = Math.max(1, xOf(b.value) - left);
    parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[b.runtime] ?? "#888"}"${b.good === false ? ' stroke="#d1242f" stroke-width="2"' : ""}/>`);
    parts.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + barH - 3}" font-size="10">${esc(`${b.runtime} ${fmt(b.value)}${unit}${b.good === false ? " (target missed)" : ""}`)}</text>`);
    if (b.bound !== undefined && b.bound > 0) {
      const bx = xOf(b.bound).toFixed(1);
      parts.push(`<line x1="${bx}" x2="${bx}" y1="${y - 1}" y2="${y + barH + 1}" stroke="#d1242f" stroke-width="2"/>`);
    }
    y += barH + gap;
  }
  return { svg: parts.join("\n"), height: y - y0 + 10 };
}

/** The chart: hand-off latency per runtime (log scale), then each target's ratio beside its bound. */
export function chartSvg(results: RuntimeResult[], vs: Verdict[], caption: string): string {
  const width = 900;
  const latency: Bar[] = [];
  const pick = ["pp.raw", "pp.event.spin0", "pp.event.spin", "pp.busy", "native.c.raw", "native.event"];
  for (const id of pick) {
    for (const r of results) {
      const row = r.rows.find((x) => x.id === id);
      if (row) latency.push({ label: row.label.replace(/^[a-z]+ FFI futex/, "FFI futex"), runtime: r.runtime, value: row.median });
    }
  }
  for (const r of results.filter((x) => x.runtime === "cross-process")) {
    for (const row of r.rows) latency.push({ label: row.label, runtime: r.runtime, value: row.median });
  }
  const ratios: Bar[] = vs.filter((v) => !v.measure.includes("bytes") && !v.measure.includes("calls")).map((v) => ({
    label: v.measure,
    runtime: v.runtime,
    value: v.value,
    bound: v.bound,
    good: v.met,
  }));
  const a = panel("Hand-off latency, ns (log scale; lower is better)", latency, 40, width, true, " ns");
  const b = panel("Ratios to the performance targets (red tick = target bound; red outline = missed)", ratios, 40 + a.height, width, true, "×");
  const height = 40 + a.height + b.height + 20;
  const legend = Object.entries(COLORS).map(([k, c], i) =>
    `<rect x="${10 + i * 120}" y="${height - 18}" width="10" height="10" fill="${c}"/><text x="${24 + i * 120}" y="${height - 9}" font-size="11">${k}</text>`
  ).join("");
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" viewBox="0 0 ${width} ${height}">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="13">${esc(caption)}</text>`,
    a.svg,
    b.svg,
    legend,
    "</svg>",
  ].join("\n");
}
