import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { latencyChart } from "./chart.ts";
import { settled } from "./cpu.ts";
import { admin } from "./http.ts";
import { type LoadOptions, type LoadResult, mergeLoads, runLoad } from "./load.ts";
import { type ApiTarget, IMPORT_OP, OPERATIONS, type OpDefinition, TAGGING } from "./operations.ts";
import { cleanupAll, installExitHandlers, startNode } from "./processes.ts";
import {
  type BenchResults,
  BUSY_OTHER_PCT,
  type Ceiling,
  COMPARED_N,
  ceilingLine,
  type EngineResult,
  evaluateTargets,
  fmtN,
  markdownReport,
  type OpResult,
  RATIO_TARGETS,
  type SizeResult,
  targetsText,
  textReport,
} from "./report.ts";
import { bulkImport } from "./seed.ts";
import { SigV4Signer } from "./sigv4-client.ts";
import { ADMIN_TOKEN, CREDENTIALS, type Engine, startTagd } from "./tagd.ts";

const USAGE = `npm run bench -- [options]

  --engines sqlite,postgres  engines to measure (default: sqlite, plus postgres when
                             TAGD_BENCH_DATABASE_URL or TAGD_TEST_DATABASE_URL is set)
  --sizes 10000,100000,1000000
                             inventory sizes (default: 10k,100k,1M on SQLite; 10k,100k on PostgreSQL)
  --pg-sizes 10000,100000    sizes on PostgreSQL only (default: --sizes when given, else 10k,100k)
  --duration 5               seconds measured per operation, after the warm-up
  --warmup 1                 seconds of warm-up per operation, not counted
  --concurrency 32           requests in flight (closed loop, keep-alive)
  --ops a,b                  a subset of: ${[IMPORT_OP.id, ...OPERATIONS.map((o) => o.id)].join(", ")}
                             (the import always runs: it seeds the inventory)
  --retries 2                measure an operation again, up to this many times, when other processes
                             took more than 25% of a core meanwhile; the least disturbed run counts
  --out bench/results        where results.md, latest.json, results-<time>.json, latency.svg go
  --workers 1                tagd's --workers: processes serving the port over one store; tagd's CPU
                             and memory are then those of all its processes
  --tagd <dir>               the tagd checkout to start (default: this one); e.g. a git worktree of a
                             commit, to measure it while src/ is being edited, or to compare two
`;

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function fail(message: string): never {
  console.error(`bench: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function numberList(flag: string, value: string): number[] {
  const list = value.split(",").map((s) => Number(s.trim().replace(/_/g, "")));
  if (list.some((n) => !Number.isInteger(n) || n < 1))
    fail(`${flag}: ${value} is not a list of positive integers`);
  return list;
}

function positive(flag: string, value: string, integer: boolean): number {
  const n = Number(value);
  if (!(n > 0) || (integer && !Number.isInteger(n))) fail(`${flag}: ${value} is not a positive number`);
  return n;
}

function parseOptions() {
  let parsed: ReturnType<typeof parse>;
  function parse() {
    return parseArgs({
      options: {
        engines: { type: "string" },
        sizes: { type: "string" },
        "pg-sizes": { type: "string" },
        duration: { type: "string", default: "5" },
        warmup: { type: "string", default: "1" },
        concurrency: { type: "string", default: "32" },
        ops: { type: "string" },
        retries: { type: "string", default: "2" },
        out: { type: "string", default: "bench/results" },
        tagd: { type: "string" },
        workers: { type: "string", default: "1" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    });
  }
  try {
    parsed = parse();
  } catch (err) {
    fail((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const databaseUrl = process.env.TAGD_BENCH_DATABASE_URL || process.env.TAGD_TEST_DATABASE_URL || undefined;
  const engines = (v.engines ?? (databaseUrl ? "sqlite,postgres" : "sqlite")).split(",").map((e) => e.trim());
  for (const e of engines) if (e !== "sqlite" && e !== "postgres") fail(`--engines: unknown engine ${e}`);
  if (engines.includes("postgres") && !databaseUrl) {
    fail("--engines postgres needs TAGD_BENCH_DATABASE_URL or TAGD_TEST_DATABASE_URL");
  }
  const sizes = v.sizes ? numberList("--sizes", v.sizes) : [10_000, 100_000, 1_000_000];
  const pgSizes = v["pg-sizes"]
    ? numberList("--pg-sizes", v["pg-sizes"])
    : v.sizes
      ? sizes
      : [10_000, 100_000];
  const known = new Set([IMPORT_OP.id, ...OPERATIONS.map((o) => o.id)]);
  const wanted = v.ops ? v.ops.split(",").map((s) => s.trim()) : [...known];
  for (const id of wanted) if (!known.has(id)) fail(`--ops: unknown operation ${id}`);
  return {
    engines: engines as Engine[],
    sizes: { sqlite: sizes, postgres: pgSizes } as Record<Engine, number[]>,
    databaseUrl,
    durationMs: positive("--duration", v.duration, false) * 1000,
    warmupMs: v.warmup === "0" ? 0 : positive("--warmup", v.warmup, false) * 1000,
    concurrency: positive("--concurrency", v.concurrency, true),
    retries: v.retries === "0" ? 0 : positive("--retries", v.retries, true),
    ops: OPERATIONS.filter((o) => wanted.includes(o.id)),
    out: resolve(REPO_ROOT, v.out),
    tagdDir: v.tagd ? resolve(v.tagd) : REPO_ROOT,
    workers: positive("--workers", v.workers, true),
  };
}

type Options = ReturnType<typeof parseOptions>;

/** Which tagd is measured: its commit, and how many files under src/ differ from it. */
function describeTagd(dir: string): { dir: string; commit: string; changedSrcFiles: number } {
  if (!existsSync(join(dir, "src", "main.ts"))) fail(`--tagd: ${dir} holds no src/main.ts`);
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", dir, ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  try {
    const changed = git("status", "--porcelain", "--", "src");
    return {
      dir,
      commit: git("rev-parse", "HEAD"),
      changedSrcFiles: changed ? changed.split("\n").length : 0,
    };
  } catch {
    return { dir, commit: "unknown (not a git checkout)", changedSrcFiles: 0 };
  }
}

const log = (line: string) => console.log(line);
const fmt = (r: LoadResult) =>
  `${Math.round(r.rps).toLocaleString("en-US").padStart(7)} req/s  p50 ${r.p50Ms.toFixed(2).padStart(7)} ms  ` +
  `p99 ${r.p99Ms.toFixed(2).padStart(7)} ms  errors ${r.errors}` +
  (r.cpu
    ? `  cpu: server ${r.cpu.server.toFixed(0)}% bench ${r.cpu.bench.toFixed(0)}%` +
      (r.cpu.database === undefined ? "" : ` postgres ${r.cpu.database.toFixed(0)}%`) +
      ` other ${r.cpu.other.toFixed(0)}%`
    : "");

/** The bare node:http server of the ceiling, started once and kept idle between its runs. */
interface Bare {
  port: number;
  pid: number;
  signer: SigV4Signer;
  stop(): Promise<void>;
}

async function startBare(): Promise<Bare> {
  let onPort!: (port: number) => void;
  const listening = new Promise<number>((resolve) => {
    onPort = resolve;
  });
  const child = startNode(["--import", "tsx", "bench/bare-server.ts", "0"], REPO_ROOT, (line) => {
    const match = /^listening (\d+)$/.exec(line);
    if (match) onPort(Number(match[1]));
  });
  const timeout = setTimeout(() => child.stop(), 30_000);
  try {
    const port = await Promise.race([
      listening,
      new Promise<number>((_, reject) =>
        child.process.once("exit", () => reject(new Error(`the bare server exited: ${child.output()}`))),
      ),
    ]);
    const signer = new SigV4Signer({
      credentials: CREDENTIALS,
      region: "us-east-1",
      service: TAGGING.signingName,
      host: `127.0.0.1:${port}`,
    });
    return { port, pid: child.pid, signer, stop: () => child.stop() };
  } finally {
    clearTimeout(timeout);
  }
}

/** The bare server driven like tagd: same generator, same signing of a GetTagKeys call. */
function driveBare(
  bare: Bare,
  concurrency: number,
  warmupMs: number,
  durationMs: number,
  keepLatencies = false,
): Promise<LoadResult> {
  const target = `${TAGGING.targetPrefix}.GetTagKeys`;
  return runLoad({
    port: bare.port,
    concurrency,
    warmupMs,
    durationMs,
    signer: bare.signer,
    make: () => ({ target, body: "{}" }),
    serverPid: bare.pid,
    keepLatencies,
  });
}

/**
 * An operation with a ratio target, and every read at COMPARED_N, is measured in SLICES slices,
 * alternating with slices of the bare server (ABBA: the server first in every other pair), and its
 * ratio is to the bare server's rate over its own slices. This machine's speed drifts within seconds
 * (the bare server at 20,282 req/s and 13,970 four seconds later), so a ratio to a ceiling measured at
 * another time says as much about the moment as about tagd; slices a second long, taken in turn, see
 * the same moments. Each slice after the first has a short warm-up of its own (the connections are
 * opened again).
 */
const SLICES = 5;
const SLICE_WARMUP_MS = 250;
async function measureAlongside(
  bare: Bare,
  options: Options,
  load: Omit<LoadOptions, "warmupMs" | "durationMs" | "firstIteration" | "keepLatencies">,
): Promise<{ result: LoadResult; ceiling: LoadResult }> {
  const sliceMs = options.durationMs / SLICES;
  const ops: LoadResult[] = [];
  const bares: LoadResult[] = [];
  let next = 0;
  const op = async (warmupMs: number) => {
    const run = await runLoad({
      ...load,
      warmupMs,
      durationMs: sliceMs,
      firstIteration: next,
      keepLatencies: true,
    });
    next = run.iterations;
    ops.push(run);
  };
  const bareSlice = async () => {
    // Not while tagd still works off the operation's slice (its checkpointer, after writes): that
    // would slow the bare server and flatter the operation's ratio.
    if (load.serverPid !== undefined) await settled(load.serverPid);
    bares.push(await driveBare(bare, options.concurrency, SLICE_WARMUP_MS, sliceMs, true));
  };
  for (let k = 0; k < SLICES; k++) {
    const warmupMs = k === 0 ? options.warmupMs : SLICE_WARMUP_MS;
    if (k % 2 === 0) {
      await op(warmupMs);
      await bareSlice();
    } else {
      await bareSlice();
      await op(warmupMs);
    }
  }
  const { latencies: _op, ...result } = mergeLoads(ops);
  const { latencies: _bare, ...ceiling } = mergeLoads(bares);
  return { result, ceiling };
}

async function measureSize(
  engine: Engine,
  n: number,
  options: Options,
  ceilingRps: number,
  bare: Bare,
): Promise<SizeResult> {
  const size: SizeResult = { n, ops: [], failures: [] };
  log(`\n[${engine} N=${fmtN(n)}] starting tagd`);
  let tagd: Awaited<ReturnType<typeof startTagd>>;
  try {
    tagd = await startTagd({
      engine,
      repoRoot: options.tagdDir,
      databaseUrl: options.databaseUrl,
      label: fmtN(n).toLowerCase(),
      workers: options.workers,
    });
  } catch (err) {
    size.error = (err as Error).message;
    log(`  !! ${engine} N=${fmtN(n)} not measured: ${size.error}`);
    return size;
  }
  try {
    // The signer is checked before anything is measured: a 200 on an empty store.
    const probe = await tagd.call(TAGGING, "GetTagKeys", {});
    if (probe.status !== 200) throw new Error(`a signed GetTagKeys answered ${probe.status}: ${probe.body}`);
    if (engine === "sqlite") {
      // tagd warns at start, before it listens, when its WAL buffer is off (README: the SQLite WAL buffer).
      const off = /SQLite WAL buffer off: ([^;"]*)/.exec(tagd.child.output());
      size.walBuffer = !off;
      if (off) log(`  !! tagd runs without its SQLite WAL buffer (${off[1]}): its writes are slower`);
    }

    log(`[${engine} N=${fmtN(n)}] seeding through the admin bulk import`);
    size.import = await bulkImport(tagd, n, log, () => tagd.call(TAGGING, "GetTagKeys", {}));
    log(
      `  admin bulk import: ${size.import.resources.toLocaleString("en-US")} resources, ` +
        `${size.import.tags.toLocaleString("en-US")} tags in ${size.import.seconds.toFixed(1)} s`,
    );

    for (const op of options.ops) await measureOp(op, tagd, n, options, ceilingRps, size, bare);
  } catch (err) {
    size.error = (err as Error).message;
    log(`  !! ${engine} N=${fmtN(n)} stopped: ${size.error}`);
    if (!tagd.child.alive()) log(`  tagd's last output:\n${tagd.child.output()}`);
  } finally {
    size.rss = await tagd.stop();
  }
  const peak = size.rss.hwmBytes ?? size.rss.sampledMaxBytes;
  log(`  peak RSS of tagd: ${(peak / 1024 / 1024).toFixed(0)} MB`);
  return size;
}

async function measureOp(
  op: OpDefinition,
  tagd: Awaited<ReturnType<typeof startTagd>>,
  n: number,
  options: Options,
  ceilingRps: number,
  size: SizeResult,
  bare: Bare,
): Promise<void> {
  // The ratio targets, and every read at the size where the engines are compared.
  const sliced = RATIO_TARGETS.some((t) => t.op === op.id) || (op.kind === "read" && n === COMPARED_N);
  const env = {
    n,
    pid: tagd.pid,
    dataDir: tagd.dataDir,
    call: (api: ApiTarget, operation: string, body: unknown) => tagd.call(api, operation, body),
    adminImport: async (body: unknown) => {
      const text = JSON.stringify(body);
      const answer = await admin(tagd.agent, tagd.port, ADMIN_TOKEN, "POST", "/admin/v1/resources", text);
      if (answer.status !== 200) throw new Error(`admin import answered ${answer.status}: ${answer.body}`);
    },
    adminCall: async (method: string, path: string, body?: unknown) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const answer = await admin(tagd.agent, tagd.port, ADMIN_TOKEN, method, path, text);
      return { status: answer.status, body: answer.body ?? "" };
    },
  };
  // A measurement during which other processes took more than BUSY_OTHER_PCT of a core is taken
  // again (set-up included) after a pause, up to --retries times; the least disturbed one is kept.
  let best: OpResult | undefined;
  let made = 0;
  for (let attempt = 1; attempt <= 1 + options.retries; attempt++) {
    made = attempt;
    let instance: Awaited<ReturnType<OpDefinition["setup"]>>;
    try {
      instance = await op.setup(env);
    } catch (err) {
      const reason = (err as Error).message;
      size.failures.push({ id: op.id, reason });
      log(`  !! ${op.label}: set-up failed, not measured: ${reason}`);
      return;
    }
    const load = {
      port: tagd.port,
      concurrency: options.concurrency,
      signer: tagd.signer(op.api),
      make: (i: number) => instance.request(i),
      failed: instance.failed,
      serverPid: tagd.pid,
      ...(tagd.engine === "postgres" ? { databaseComm: "postgres" } : {}),
    };
    let result: LoadResult;
    let alongside: OpResult["alongside"];
    if (sliced) {
      const both = await measureAlongside(bare, options, load);
      result = both.result;
      alongside = { ceiling: both.ceiling.rps, ratio: result.rps / both.ceiling.rps, slices: SLICES };
    } else {
      result = await runLoad({ ...load, warmupMs: options.warmupMs, durationMs: options.durationMs });
    }
    const note = instance.note?.();
    const measured: OpResult = {
      ...result,
      id: op.id,
      label: op.label,
      kind: op.kind,
      ratio: result.rps / ceilingRps,
      attempts: 1,
      ...(alongside ? { alongside } : {}),
      ...(note ? { note } : {}),
    };
    log(
      `  ${op.label.padEnd(40)} ${fmt(result)}  ${((result.rps / ceilingRps) * 100).toFixed(1)}% of ceiling` +
        (result.errors > 0 ? `   <-- ERRORS ${JSON.stringify(result.errorKinds)}` : ""),
    );
    if (alongside) {
      log(
        `    ${(alongside.ratio * 100).toFixed(1)}% of the ceiling alongside it (${SLICES} slices each, alternating; ` +
          `the bare server ${Math.round(alongside.ceiling).toLocaleString("en-US")} req/s over its slices)`,
      );
    }
    if (note) log(`    note: ${note}`);
    if (!tagd.child.alive()) throw new Error(`tagd exited during ${op.label}:\n${tagd.child.output()}`);
    if (!best || (measured.cpu?.other ?? 0) < (best.cpu?.other ?? 0)) best = { ...measured };
    if ((measured.cpu?.other ?? 0) <= BUSY_OTHER_PCT) break;
    if (attempt <= options.retries) {
      log(`    other processes took ${measured.cpu?.other.toFixed(0)}% of a core: measuring again in 3 s`);
      await new Promise((r) => setTimeout(r, 3000));
    }
  }
  if (best) size.ops.push({ ...best, attempts: made });
}

/**
 * Measures the ceiling, again (up to three times in all) while other processes take more than
 * BUSY_OTHER_PCT of a core: a ceiling measured low would flatter every ratio.
 */
async function measureCeilingQuietly(options: Options, bare: Bare, runs: LoadResult[]): Promise<void> {
  for (let attempt = 1; attempt <= 3; attempt++) {
    const run = await driveBare(bare, options.concurrency, options.warmupMs, options.durationMs);
    runs.push(run);
    log(`  ${fmt(run)}`);
    if ((run.cpu?.other ?? 0) <= BUSY_OTHER_PCT) return;
    if (attempt < 3) log("  other processes were busy during that run: measuring again in 3 s");
    await new Promise((r) => setTimeout(r, 3000));
  }
}

function ceilingOf(runs: LoadResult[]): Ceiling {
  const best = runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  return { rps: best.rps, p50Ms: best.p50Ms, p99Ms: best.p99Ms, runs };
}

async function main() {
  const options = parseOptions();
  const tagdVersion = describeTagd(options.tagdDir);
  installExitHandlers();
  const startedAt = new Date();
  const cpus = os.cpus();
  log(
    `tagd benchmark: ${cpus.length} × ${cpus[0]?.model ?? "?"}, Node ${process.version}; engines ` +
      `${options.engines.join(", ")}; concurrency ${options.concurrency}; ` +
      `${options.durationMs / 1000} s per operation after ${options.warmupMs / 1000} s of warm-up`,
  );
  log(
    `tagd: ${tagdVersion.dir} at ${tagdVersion.commit.slice(0, 12)}` +
      (tagdVersion.changedSrcFiles > 0
        ? ` — with ${tagdVersion.changedSrcFiles} uncommitted change(s) under src/: every N starts tagd ` +
          "afresh, so edits made during the run are measured too (use --tagd with a worktree to pin a commit)"
        : ""),
  );

  log("\n[ceiling] bare node:http server");
  const bare = await startBare();
  const ceilingRuns: LoadResult[] = [];
  await measureCeilingQuietly(options, bare, ceilingRuns);

  const engines: EngineResult[] = [];
  for (const engine of options.engines) {
    const result: EngineResult = { engine, sizes: [] };
    engines.push(result);
    for (const n of options.sizes[engine]) {
      result.sizes.push(await measureSize(engine, n, options, ceilingOf(ceilingRuns).rps, bare));
    }
  }

  // Measured again at the end, in case the machine was busier at the start; the better run counts.
  log("\n[ceiling] bare node:http server, again");
  await measureCeilingQuietly(options, bare, ceilingRuns);
  await bare.stop();
  const ceiling = ceilingOf(ceilingRuns);
  const rates = ceilingRuns.map((r) => r.rps);
  const spread = (Math.max(...rates) - Math.min(...rates)) / Math.max(...rates);
  if (spread > 0.15) {
    log(
      `  !! the ceiling runs differ by up to ${(spread * 100).toFixed(0)}%: the machine's load changed during ` +
        "the run (other processes?); ratios use the best run",
    );
  }
  for (const e of engines) for (const s of e.sizes) for (const o of s.ops) o.ratio = o.rps / ceiling.rps;

  const results: BenchResults = {
    version: 1,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: {
      cpuModel: cpus[0]?.model ?? "unknown",
      cpus: cpus.length,
      totalMemoryBytes: os.totalmem(),
      node: process.version,
      platform: os.platform(),
      release: os.release(),
    },
    settings: {
      engines: options.engines,
      sizes: Object.fromEntries(options.engines.map((e) => [e, options.sizes[e]])),
      durationSeconds: options.durationMs / 1000,
      warmupSeconds: options.warmupMs / 1000,
      concurrency: options.concurrency,
      ops: options.ops.map((o) => o.id),
      tagd: tagdVersion,
      workers: options.workers,
    },
    ceiling,
    engines,
    targets: [],
  };
  results.targets = evaluateTargets(results);

  log(`\n${ceilingLine(ceiling)}\n`);
  for (const e of engines) log(`${textReport(e)}\n`);
  log(`targets:\n${targetsText(results.targets)}\n`);

  mkdirSync(options.out, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const stamp = startedAt.toISOString().replace(/[:.]/g, "-");
  writeFileSync(join(options.out, `results-${stamp}.json`), json);
  writeFileSync(join(options.out, "latest.json"), json);
  writeFileSync(join(options.out, "results.md"), markdownReport(results));
  writeFileSync(join(options.out, "latency.svg"), latencyChart(results));
  log(`written: ${options.out}/{results.md,latest.json,results-${stamp}.json,latency.svg}`);

  const errors = engines.flatMap((e) =>
    e.sizes.flatMap((s) => [
      ...s.ops
        .filter((o) => o.errors > 0)
        .map((o) => `${e.engine} N=${fmtN(s.n)} ${o.label}: ${o.errors} errors`),
      ...s.failures.map((f) => `${e.engine} N=${fmtN(s.n)} ${f.id}: not measured`),
      ...(s.error ? [`${e.engine} N=${fmtN(s.n)}: ${s.error.split("\n")[0]}`] : []),
    ]),
  );
  if (errors.length > 0) {
    console.error(`\n!!!!! THIS RUN HAD ERRORS — its numbers are not clean:\n  ${errors.join("\n  ")}`);
    process.exitCode = 1;
  }
}

main()
  .catch((err) => {
    console.error("bench failed:", err);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanupAll();
    process.exit();
  });
