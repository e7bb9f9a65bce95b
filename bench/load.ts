import http from "node:http";
import { type CpuShare, cpuShare, cpuSnapshot } from "./cpu.ts";
import { send } from "./http.ts";
/**
 * One request of an operation, before signing: for AWS the full X-Amz-Target and the JSON body; for
 * Alibaba the action and the parameters as a canonical query string.
 */
export interface BenchRequest {
  target: string;
  body: string;
}

/** A request as it goes on the wire. */
export interface SignedRequest {
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Signs a request in its dialect (SigV4Signer, AcsSigner). */
export interface RequestSigner {
  signRequest(request: BenchRequest): SignedRequest;
}

export interface LoadOptions {
  port: number;
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  signer: RequestSigner;
  /** The request of iteration `i` (warm-up iterations included; numbered from 0). */
  make(i: number): BenchRequest;
  /** For a 2xx answer: an error label when it still failed (e.g. a non-empty FailedResourcesMap). */
  failed?(body: string): string | null;
  /** The server's process id, to tell its CPU use from the rest of the machine's. */
  serverPid?: number;
  /** The database server's command name (`postgres`), to count its CPU apart. */
  databaseComm?: string;
  /** The number of the first iteration (a run continuing another one's: mergeLoads). */
  firstIteration?: number;
  /** Return the measured latencies too (sorted), for mergeLoads. */
  keepLatencies?: boolean;
}

export interface LoadResult {
  /** Requests completed inside the measured window (errors included). */
  requests: number;
  errors: number;
  /** Error label → count, for the report. */
  errorKinds: Record<string, number>;
  /** A few error answers as received, for diagnosis. */
  errorSamples: string[];
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
  maxMs: number;
  /** Iterations started, warm-up included: UntagResources reuses TagResources' ARNs up to here. */
  iterations: number;
  /** CPU use during the measured window, where /proc can be read. */
  cpu?: CpuShare;
  /** With keepLatencies: every measured latency, in ms, ascending. */
  latencies?: Float64Array;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] as number;
}

/** The latency figures of a run from its latencies in ms, ascending. */
export function latencyStats(sorted: Float64Array): Pick<LoadResult, "p50Ms" | "p99Ms" | "meanMs" | "maxMs"> {
  let sum = 0;
  for (const l of sorted) sum += l;
  const count = sorted.length;
  return {
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    meanMs: count > 0 ? sum / count : Number.NaN,
    maxMs: count > 0 ? (sorted[count - 1] as number) : Number.NaN,
  };
}

function errorLabel(status: number, body: string): string {
  let type = "";
  try {
    const parsed = JSON.parse(body) as { __type?: string; error?: { code?: string } };
    type = parsed.__type ?? parsed.error?.code ?? "";
  } catch {
    type = body.slice(0, 60);
  }
  return `HTTP ${status} ${type}`.trim();
}

/**
 * A closed loop: `concurrency` workers, each sending its next request as soon as the previous answer
 * has arrived, over a keep-alive agent with as many sockets. Requests during the warm-up are sent but
 * not counted; throughput is the completions inside the measured window over its length, latencies
 * are those of the requests that completed inside it (timed with the monotonic clock, from the call
 * to the last byte of the answer, signing included).
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const start = process.hrtime.bigint();
  const windowStart = start + BigInt(Math.round(options.warmupMs * 1e6));
  const windowEnd = windowStart + BigInt(Math.round(options.durationMs * 1e6));
  let latencies = new Float64Array(1 << 16);
  let count = 0;
  let requests = 0;
  let errors = 0;
  let next = options.firstIteration ?? 0;
  const errorKinds: Record<string, number> = {};
  const errorSamples: string[] = [];

  const record = (t0: bigint, t1: bigint, error: string | null, sample: string) => {
    if (t1 < windowStart || t1 > windowEnd) return;
    requests++;
    if (error !== null) {
      errors++;
      errorKinds[error] = (errorKinds[error] ?? 0) + 1;
      if (errorSamples.length < 3) errorSamples.push(sample.slice(0, 400));
    }
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = Number(t1 - t0) / 1e6;
  };

  const worker = async () => {
    while (process.hrtime.bigint() < windowEnd) {
      const i = next++;
      const t0 = process.hrtime.bigint();
      const request = options.make(i);
      const signed = options.signer.signRequest(request);
      try {
        const answer = await send({
          agent,
          port: options.port,
          path: signed.path,
          headers: signed.headers,
          body: signed.body,
          keepBody: options.failed !== undefined,
        });
        const t1 = process.hrtime.bigint();
        const ok = answer.status >= 200 && answer.status <= 299;
        const error = ok ? (options.failed?.(answer.body) ?? null) : errorLabel(answer.status, answer.body);
        record(t0, t1, error, `HTTP ${answer.status} ${answer.body}`);
      } catch (err) {
        const code = (err as { code?: string }).code ?? (err as Error).message;
        record(t0, process.hrtime.bigint(), `network ${code}`, String(err));
      }
    }
  };

  let cpuAtStart: ReturnType<typeof cpuSnapshot>;
  let cpuAtEnd: ReturnType<typeof cpuSnapshot>;
  const pid = options.serverPid;
  const timers =
    pid === undefined
      ? []
      : [
          setTimeout(() => {
            cpuAtStart = cpuSnapshot(pid, options.databaseComm);
          }, options.warmupMs),
          setTimeout(() => {
            cpuAtEnd = cpuSnapshot(pid, options.databaseComm);
          }, options.warmupMs + options.durationMs),
        ];
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
    for (const t of timers) clearTimeout(t);
  }
  // The last answers can come in before the end timer's turn (often so in a 1 s slice): the share is
  // taken over the time that actually passed, so a snapshot now is as good.
  if (pid !== undefined && cpuAtStart && !cpuAtEnd) cpuAtEnd = cpuSnapshot(pid, options.databaseComm);
  const sorted = latencies.subarray(0, count).sort();
  const seconds = options.durationMs / 1000;
  return {
    requests,
    errors,
    errorKinds,
    errorSamples,
    seconds,
    rps: requests / seconds,
    ...latencyStats(sorted),
    iterations: next,
    cpu: cpuShare(cpuAtStart, cpuAtEnd),
    ...(options.keepLatencies ? { latencies: sorted } : {}),
  };
}

/**
 * Runs of one load taken in slices (with keepLatencies), as one: requests over the slices' measured
 * seconds, percentiles of all their latencies, CPU shares weighted by each slice's length.
 */
export function mergeLoads(runs: LoadResult[]): LoadResult {
  const seconds = runs.reduce((a, r) => a + r.seconds, 0);
  const requests = runs.reduce((a, r) => a + r.requests, 0);
  const total = runs.reduce((a, r) => a + (r.latencies?.length ?? 0), 0);
  const sorted = new Float64Array(total);
  let at = 0;
  for (const r of runs) {
    if (!r.latencies) throw new Error("mergeLoads needs runs taken with keepLatencies");
    sorted.set(r.latencies, at);
    at += r.latencies.length;
  }
  sorted.sort();
  const errorKinds: Record<string, number> = {};
  for (const r of runs)
    for (const [k, v] of Object.entries(r.errorKinds)) errorKinds[k] = (errorKinds[k] ?? 0) + v;
  const shares = runs.filter((r) => r.cpu !== undefined);
  const weighted = (pick: (c: CpuShare) => number | undefined) =>
    shares.reduce((a, r) => a + (pick(r.cpu as CpuShare) ?? 0) * r.seconds, 0) /
    shares.reduce((a, r) => a + r.seconds, 0);
  const cpu: CpuShare | undefined =
    shares.length === runs.length && shares.length > 0
      ? {
          server: weighted((c) => c.server),
          bench: weighted((c) => c.bench),
          ...(shares.every((r) => r.cpu?.database !== undefined)
            ? { database: weighted((c) => c.database) }
            : {}),
          other: weighted((c) => c.other),
          capacity: weighted((c) => c.capacity),
        }
      : undefined;
  return {
    requests,
    errors: runs.reduce((a, r) => a + r.errors, 0),
    errorKinds,
    errorSamples: runs.flatMap((r) => r.errorSamples).slice(0, 3),
    seconds,
    rps: requests / seconds,
    ...latencyStats(sorted),
    iterations: runs[runs.length - 1]?.iterations ?? 0,
    ...(cpu ? { cpu } : {}),
    latencies: sorted,
  };
}
