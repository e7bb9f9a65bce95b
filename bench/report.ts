import type { LoadResult } from "./load.ts";
import { type ImportResult, PROBE_EVERY_MS } from "./seed.ts";
import type { Engine } from "./tagd.ts";

export interface OpResult extends LoadResult {
  id: string;
  label: string;
  kind: "read" | "write";
  /** Requests/s over the ceiling's requests/s. */
  ratio: number;
  /**
   * For an operation with a ratio target, and every read at COMPARED_N, measured in slices
   * alternating with slices of the bare server: the bare server's requests/s over its slices, and this
   * operation's over that — what the targets are judged on.
   */
  alongside?: { ceiling: number; ratio: number; slices: number };
  note?: string;
  /** Measurements taken (more than one when other processes disturbed the first). */
  attempts: number;
}

export interface SizeResult {
  n: number;
  import?: ImportResult;
  ops: OpResult[];
  /** Operations that could not run, and why. */
  failures: { id: string; reason: string }[];
  /** tagd's memory: its processes' private pages plus the shared file pages once (see RssSampler). */
  rss?: { hwmBytes?: number; sampledMaxBytes: number; processes?: number };
  /** Set when this size stopped early (tagd failed to start, seeding failed). */
  error?: string;
  /** SQLite: whether tagd ran with its WAL buffer (it warns at start when not: no C compiler, or off). */
  walBuffer?: boolean;
}

export interface EngineResult {
  engine: Engine;
  sizes: SizeResult[];
}

export interface Ceiling {
  /** The larger of the runs: ratios are taken against the better ceiling. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  runs: LoadResult[];
}

export interface TargetResult {
  target: string;
  status: "PASS" | "FAIL" | "N/A";
  measured: string;
}

export interface BenchResults {
  version: 1;
  startedAt: string;
  finishedAt: string;
  machine: {
    cpuModel: string;
    cpus: number;
    totalMemoryBytes: number;
    node: string;
    platform: string;
    release: string;
  };
  settings: {
    engines: Engine[];
    sizes: Record<string, number[]>;
    durationSeconds: number;
    warmupSeconds: number;
    concurrency: number;
    ops: string[];
    tagd: { dir: string; commit: string; changedSrcFiles: number };
    /** tagd's --workers (absent in results from before the option: 1). */
    workers?: number;
  };
  ceiling: Ceiling;
  engines: EngineResult[];
  targets: TargetResult[];
}

/** MiB: what /proc reports in kB (KiB), printed as "MB". */
const MB = 1024 * 1024;
/** Other processes' CPU, in percent of one core, above which a measurement is flagged as disturbed. */
export const BUSY_OTHER_PCT = 25;
const BUSY_FOOTNOTE =
  `* other processes (neither tagd, the load generator nor PostgreSQL) used more than ${BUSY_OTHER_PCT}% of a ` +
  "core in every attempt to measure this: the machine was shared, the number is likely low";
export const fmtN = (n: number) =>
  n >= 1_000_000 && n % 1_000_000 === 0
    ? `${n / 1_000_000}M`
    : n >= 1000 && n % 1000 === 0
      ? `${n / 1000}k`
      : String(n);
const fmtInt = (x: number) => Math.round(x).toLocaleString("en-US");
const fmtMs = (x: number) =>
  Number.isNaN(x) ? "–" : x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
const fmtPct = (x: number) => `${(x * 100).toFixed(1)}%`;
const fmtMb = (b: number | undefined) => (b === undefined ? "?" : `${(b / MB).toFixed(0)} MB`);

export function peakRss(size: SizeResult): number | undefined {
  if (!size.rss) return undefined;
  return size.rss.hwmBytes ?? size.rss.sampledMaxBytes;
}

function importLine(imp: ImportResult): string {
  return (
    `${fmtInt(imp.resources)} resources, ${fmtInt(imp.tags)} tags in ${imp.seconds.toFixed(1)} s ` +
    `(${fmtInt(imp.resourcesPerSecond)} resources/s, ${fmtInt(imp.tagsPerSecond)} tags/s; ` +
    `${imp.chunks} request${imp.chunks === 1 ? "" : "s"} of ≤10,000; building the bodies took this process ${imp.clientSeconds.toFixed(1)} s, ` +
    "overlapped" +
    (imp.cpu ? `; tagd's CPU ${imp.cpu.server.toFixed(0)}% of a core` : "") +
    (imp.cpu?.database !== undefined ? `, PostgreSQL's ${imp.cpu.database.toFixed(0)}%` : "") +
    ((imp.cpu?.other ?? 0) > BUSY_OTHER_PCT
      ? `; other processes took ${imp.cpu?.other.toFixed(0)}% of a core meanwhile`
      : "") +
    ")" +
    (imp.reads
      ? `; a GetTagKeys every ${PROBE_EVERY_MS} ms meanwhile (${fmtInt(imp.reads.count)}): p50 ${imp.reads.p50Ms.toFixed(1)} ms, ` +
        `p99 ${imp.reads.p99Ms.toFixed(1)} ms, max ${imp.reads.maxMs.toFixed(1)} ms`
      : "")
  );
}

/** Other processes (not tagd, the generator or PostgreSQL's) took a core's share beyond the threshold. */
function disturbed(op: OpResult): boolean {
  return (op.cpu?.other ?? 0) > BUSY_OTHER_PCT;
}

interface Row {
  cells: string[];
  errors: boolean;
}

/** Grouped by operation, then N ascending, so that how each one scales reads down the table. */
function rows(engine: EngineResult): Row[] {
  const out: Row[] = [];
  const ids = [...new Set(engine.sizes.flatMap((s) => s.ops.map((o) => o.id)))];
  const sizes = [...engine.sizes].sort((a, b) => a.n - b.n);
  for (const id of ids) {
    for (const size of sizes) {
      const op = size.ops.find((o) => o.id === id);
      if (!op) continue;
      out.push({
        cells: [
          op.label,
          fmtN(size.n),
          fmtInt(op.rps) + (disturbed(op) ? "*" : ""),
          fmtMs(op.p50Ms),
          fmtMs(op.p99Ms),
          fmtPct(op.ratio),
          op.alongside ? fmtPct(op.alongside.ratio) : "–",
          op.errors === 0 ? "0" : `${fmtInt(op.errors)} of ${fmtInt(op.requests)}`,
        ],
        errors: op.errors > 0,
      });
    }
  }
  return out;
}

const HEADER = ["op", "N", "req/s", "p50 ms", "p99 ms", "% of ceiling", "% of ceiling alongside", "errors"];
const RIGHT = [false, true, true, true, true, true, true, true];

/** The plain-text report of one engine: the table, then import and peak RSS per N. */
export function textReport(engine: EngineResult): string {
  const body = rows(engine);
  const widths = HEADER.map((h, c) => Math.max(h.length, ...body.map((r) => (r.cells[c] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (RIGHT[c] ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0)))
      .join("  ");
  const out = [`== ${engine.engine} ==`, line(HEADER), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const r of body) out.push(`${line(r.cells)}${r.errors ? "   <-- ERRORS" : ""}`);
  if (body.some((r) => r.cells[2]?.endsWith("*"))) out.push(BUSY_FOOTNOTE);
  for (const size of engine.sizes) {
    out.push("");
    out.push(`N=${fmtN(size.n)}:`);
    if (size.import) out.push(`  admin bulk import: ${importLine(size.import)}`);
    if (size.rss) {
      out.push(
        `  peak RSS of tagd: ${fmtMb(peakRss(size))}` +
          (size.rss.hwmBytes !== undefined
            ? " (VmHWM)"
            : (size.rss.processes ?? 1) > 1
              ? ` (${size.rss.processes} processes: their own pages and the shared file pages once, sampled every 100 ms)`
              : " (sampled every 100 ms; VmHWM unreadable)") +
          (engine.engine === "postgres" ? ", PostgreSQL's own processes not included" : ""),
      );
    }
    for (const f of size.failures) out.push(`  !! ${f.id} did not run: ${f.reason}`);
    if (size.error) out.push(`  !! stopped: ${size.error}`);
    for (const op of size.ops.filter((o) => o.note)) out.push(`  note: ${op.label}: ${op.note}`);
    for (const op of size.ops.filter((o) => o.requests < 200)) {
      out.push(
        op.requests === 0
          ? `  !! ${op.label}: no request completed inside the ${op.seconds} s window — each took longer`
          : `  note: ${op.label}: only ${op.requests} requests measured, its p99 is rough`,
      );
    }
    for (const op of size.ops.filter((o) => o.errors > 0)) {
      out.push(`  !! ${op.label}: ${op.errors} errors: ${JSON.stringify(op.errorKinds)}`);
      for (const s of op.errorSamples) out.push(`       e.g. ${s}`);
    }
  }
  return out.join("\n");
}

export function ceilingLine(c: Ceiling): string {
  return (
    `ceiling (bare node:http, fixed JSON answer, same generator and signing): ${fmtInt(c.rps)} req/s, ` +
    `p50 ${fmtMs(c.p50Ms)} ms, p99 ${fmtMs(c.p99Ms)} ms (runs: ${c.runs.map((r) => fmtInt(r.rps)).join(", ")} req/s)`
  );
}

export function markdownReport(results: BenchResults): string {
  const m = results.machine;
  const s = results.settings;
  const out = [
    "# tagd benchmark",
    "",
    `${m.cpus} × ${m.cpuModel}, ${(m.totalMemoryBytes / 1024 ** 3).toFixed(0)} GB, Node ${m.node}; ` +
      `concurrency ${s.concurrency}, ${s.durationSeconds} s per operation after a ${s.warmupSeconds} s warm-up; ` +
      `run ${results.startedAt}; tagd at ${s.tagd.commit.slice(0, 12)}` +
      ((s.workers ?? 1) > 1 ? ` with --workers ${s.workers}` : "") +
      (s.tagd.changedSrcFiles > 0
        ? ` with ${s.tagd.changedSrcFiles} uncommitted change(s) under src/.`
        : "."),
    "",
    `Ceiling — a bare node:http server answering a fixed JSON body, driven by the same generator with the ` +
      `same signing: ${fmtInt(results.ceiling.rps)} req/s, p50 ${fmtMs(results.ceiling.p50Ms)} ms, ` +
      `p99 ${fmtMs(results.ceiling.p99Ms)} ms (runs at the start and at the end: ` +
      `${results.ceiling.runs.map((r) => fmtInt(r.rps)).join(", ")} req/s; the best one counts for "% of ` +
      'ceiling"). The operations with a ratio target, and every read at N = 100k, are measured in slices ' +
      'alternating with slices of the same server ("% of ceiling alongside": their rate over its rate in its ' +
      "slices); the ratio targets, and PostgreSQL against SQLite, are judged on that.",
  ];
  for (const engine of results.engines) {
    out.push("", `## ${engine.engine === "sqlite" ? "SQLite" : "PostgreSQL"}`, "");
    out.push(`| ${HEADER.join(" | ")} |`, `| ${RIGHT.map((r) => (r ? "---:" : "---")).join(" | ")} |`);
    const body = rows(engine);
    for (const r of body) out.push(`| ${r.cells.join(" | ")} |`);
    if (body.some((r) => r.cells[2]?.endsWith("*"))) out.push("", `\\${BUSY_FOOTNOTE}`);
    out.push("");
    out.push("| N | admin bulk import | peak RSS |", "| ---: | --- | ---: |");
    for (const size of engine.sizes) {
      const imp = size.import ? importLine(size.import) : (size.error ?? "–");
      out.push(`| ${fmtN(size.n)} | ${imp} | ${fmtMb(peakRss(size))} |`);
    }
  }
  out.push("", "## Targets", "");
  out.push("| target | measured | result |", "| --- | --- | --- |");
  for (const t of results.targets) out.push(`| ${t.target} | ${t.measured} | ${t.status} |`);
  return `${out.join("\n")}\n`;
}

// ---- targets ----

function findSize(results: BenchResults, engine: Engine, n: number): SizeResult | undefined {
  return results.engines.find((e) => e.engine === engine)?.sizes.find((s) => s.n === n);
}

const BUSY_CAVEAT = " — some of it measured while other processes were busy (*)";

/**
 * The targets on a share of the ceiling. Each of these operations is judged against the bare server
 * measured alongside it (OpResult.alongside); results from before that fall back to the run's best
 * ceiling.
 */
export const RATIO_TARGETS = [
  { op: "get-tag-keys", min: 0.5, name: "GetTagKeys" },
  { op: "get-resources-filter", min: 0.2, name: "GetResources with a filter" },
  { op: "tag-1", min: 0.25, name: "TagResources (1 ARN)" },
] as const;

function ratioTarget(results: BenchResults, opId: string, min: number, name: string): TargetResult {
  const target = `${name} ≥ ${min * 100}% of the ceiling alongside it (SQLite, every N)`;
  const measured: string[] = [];
  let worst = Number.POSITIVE_INFINITY;
  let errors = false;
  let busy = false;
  for (const size of results.engines.find((e) => e.engine === "sqlite")?.sizes ?? []) {
    const op = size.ops.find((o) => o.id === opId);
    if (!op) continue;
    const ratio = op.alongside?.ratio ?? op.ratio;
    measured.push(
      `${fmtPct(ratio)}${disturbed(op) ? "*" : ""} at ${fmtN(size.n)}` +
        (op.alongside ? ` (${fmtPct(op.ratio)} of the run's best)` : ""),
    );
    worst = Math.min(worst, ratio);
    errors ||= op.errors > 0;
    busy ||= disturbed(op);
  }
  if (measured.length === 0) return { target, status: "N/A", measured: "not measured on SQLite" };
  return {
    target,
    status: worst >= min && !errors ? "PASS" : "FAIL",
    measured: measured.join(", ") + (errors ? " (with errors)" : "") + (busy ? BUSY_CAVEAT : ""),
  };
}

function scalingTarget(results: BenchResults): TargetResult {
  const target = "p50 of every read at N=1M within 2× of its p50 at N=10k (SQLite)";
  const small = findSize(results, "sqlite", 10_000);
  const large = findSize(results, "sqlite", 1_000_000);
  if (!small || !large) return { target, status: "N/A", measured: "needs N=10k and N=1M on SQLite" };
  let worst = { label: "", factor: 0 };
  let busy = false;
  for (const op of large.ops.filter((o) => o.kind === "read")) {
    const base = small.ops.find((o) => o.id === op.id);
    if (!base) continue;
    const factor = op.p50Ms / base.p50Ms;
    busy ||= disturbed(op) || disturbed(base);
    if (factor > worst.factor) worst = { label: op.label, factor };
  }
  if (worst.factor === 0) return { target, status: "N/A", measured: "no read measured at both sizes" };
  return {
    target,
    status: worst.factor <= 2 ? "PASS" : "FAIL",
    measured: `worst ${worst.factor.toFixed(2)}× (${worst.label})${busy ? BUSY_CAVEAT : ""}`,
  };
}

function importTarget(results: BenchResults): TargetResult {
  const target = "bulk import of 1M resources with ~5M tags in under 60 s (SQLite)";
  const imp = findSize(results, "sqlite", 1_000_000)?.import;
  if (!imp) return { target, status: "N/A", measured: "N=1M not measured on SQLite" };
  return {
    target,
    status: imp.seconds < 60 ? "PASS" : "FAIL",
    measured:
      `${imp.seconds.toFixed(1)} s for ${fmtInt(imp.resources)} resources, ${fmtInt(imp.tags)} tags` +
      ((imp.cpu?.other ?? 0) > BUSY_OTHER_PCT ? " — other processes were busy meanwhile" : ""),
  };
}

function rssTarget(results: BenchResults): TargetResult {
  const target = "peak RSS of tagd under 400 MB at N=1M (SQLite)";
  const size = findSize(results, "sqlite", 1_000_000);
  const peak = size ? peakRss(size) : undefined;
  if (peak === undefined) return { target, status: "N/A", measured: "N=1M not measured on SQLite" };
  return { target, status: peak < 400 * MB ? "PASS" : "FAIL", measured: fmtMb(peak) };
}

/**
 * The size at which PostgreSQL's reads are compared with SQLite's. The two are measured many minutes
 * apart, so there every read is measured alongside the bare server too, and the comparison is of
 * their shares of it (see RATIO_TARGETS).
 */
export const COMPARED_N = 100_000;

function postgresTarget(results: BenchResults): TargetResult {
  const target =
    "PostgreSQL within 2× of SQLite on every read at N=100k (req/s, each over the bare server alongside)";
  const lite = findSize(results, "sqlite", COMPARED_N);
  const pg = findSize(results, "postgres", COMPARED_N);
  if (!lite || !pg) return { target, status: "N/A", measured: "needs N=100k on both engines" };
  let worst = { label: "", factor: 0, raw: 0 };
  let busy = false;
  for (const op of pg.ops.filter((o) => o.kind === "read")) {
    const base = lite.ops.find((o) => o.id === op.id);
    if (!base) continue;
    const raw = base.rps / op.rps;
    const factor = base.alongside && op.alongside ? base.alongside.ratio / op.alongside.ratio : raw;
    busy ||= disturbed(op) || disturbed(base);
    if (factor > worst.factor) worst = { label: op.label, factor, raw };
  }
  if (worst.factor === 0) return { target, status: "N/A", measured: "no read measured on both engines" };
  return {
    target,
    status: worst.factor <= 2 ? "PASS" : "FAIL",
    measured:
      `worst: SQLite ${worst.factor.toFixed(2)}× PostgreSQL (${worst.label}` +
      (worst.raw === worst.factor ? "" : `; ${worst.raw.toFixed(2)}× in plain req/s`) +
      `)${busy ? BUSY_CAVEAT : ""}`,
  };
}

export function evaluateTargets(results: BenchResults): TargetResult[] {
  return [
    ...RATIO_TARGETS.map((t) => ratioTarget(results, t.op, t.min, t.name)),
    scalingTarget(results),
    importTarget(results),
    rssTarget(results),
    postgresTarget(results),
  ];
}

export function targetsText(targets: TargetResult[]): string {
  const width = Math.max(...targets.map((t) => t.target.length));
  return targets.map((t) => `${t.status.padEnd(4)}  ${t.target.padEnd(width)}  ${t.measured}`).join("\n");
}
