import { once } from "node:events";
import http from "node:http";
import { nextTurn } from "../src/turns.ts";
import { type CpuShare, cpuShare, cpuSnapshot } from "./cpu.ts";
import { importEntry } from "./inventory.ts";
import { latencyStats } from "./load.ts";
import { ADMIN_TOKEN, type TagdInstance } from "./tagd.ts";

export const IMPORT_CHUNK = 10_000;

export interface ImportResult {
  resources: number;
  tags: number;
  /** Wall time from the first request to the last answer. */
  seconds: number;
  resourcesPerSecond: number;
  tagsPerSecond: number;
  /** Of `seconds`, the time this process spent building request bodies (overlapped with the server). */
  clientSeconds: number;
  chunks: number;
  /** CPU use during the import, where /proc can be read. */
  cpu?: CpuShare;
  /** The reads sent meanwhile, one every PROBE_EVERY_MS (see `bulkImport`). */
  reads?: { count: number } & ReturnType<typeof latencyStats>;
}

/** The pause between two reads sent while the import runs. */
export const PROBE_EVERY_MS = 20;

interface Body {
  text: string;
  tags: number;
  count: number;
}

/**
 * A call's body; built 1,000 entries at a time with a turn of the event loop between two, so that the
 * answers to the reads sent meanwhile are taken in as they come (building a call takes ~150 ms).
 */
async function chunkBody(start: number, end: number): Promise<Body> {
  const entries = [];
  let tags = 0;
  for (let i = start; i < end; i++) {
    if (i > start && (i - start) % 1000 === 0) await nextTurn();
    const entry = importEntry(i);
    tags += Object.keys(entry.tags).length;
    entries.push(entry);
  }
  return { text: JSON.stringify({ resources: entries }), tags, count: end - start };
}

/** POSTs one chunk; resolves on the answer, and calls `flushed` once the body has left this process. */
function postChunk(port: number, agent: http.Agent, body: string, flushed: () => void) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/admin/v1/resources",
        agent,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
    void once(req, "finish").then(flushed, () => {});
  });
}

/**
 * Seeds N resources with their tags through the admin bulk import, in chunks of 10,000, one request at
 * a time; the next chunk's body is built while the server works on the current one. Measured as the
 * "admin bulk import" operation. Meanwhile `read` (a signed GetTagKeys) is sent one at a time, every
 * PROBE_EVERY_MS, and its latencies kept: how long a request waits behind an import call.
 */
export async function bulkImport(
  tagd: TagdInstance,
  n: number,
  log: (line: string) => void,
  read: () => Promise<{ status: number; body: string }>,
): Promise<ImportResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let clientMs = 0;
  let tags = 0;
  let chunks = 0;
  const build = async (start: number): Promise<Body> => {
    const t = performance.now();
    const body = await chunkBody(start, Math.min(n, start + IMPORT_CHUNK));
    clientMs += performance.now() - t;
    return body;
  };
  // The clock starts once the first body is ready: the server has nothing to do before.
  let current = await build(0);
  const databaseComm = tagd.engine === "postgres" ? "postgres" : undefined;
  const cpuAtStart = cpuSnapshot(tagd.pid, databaseComm);
  const started = performance.now();
  let lastReport = started;
  let importing = true;
  const readLatencies: number[] = [];
  // Its failure is kept, not left unhandled while the import goes on, and thrown once the import is done.
  const reading = (async () => {
    while (importing) {
      const t = performance.now();
      const answer = await read();
      if (answer.status !== 200)
        throw new Error(`a read during the import answered ${answer.status}: ${answer.body}`);
      readLatencies.push(performance.now() - t);
      await new Promise((resolve) => setTimeout(resolve, PROBE_EVERY_MS));
    }
  })().then(
    () => undefined,
    (err: unknown) => err,
  );
  try {
    for (let start = 0; start < n; ) {
      let flushed!: () => void;
      const bodyGone = new Promise<void>((resolve) => {
        flushed = resolve;
      });
      const answering = postChunk(tagd.port, agent, current.text, flushed);
      const nextStart = start + current.count;
      await bodyGone;
      const next = nextStart < n ? await build(nextStart) : undefined;
      const answer = await answering;
      if (answer.status !== 200) {
        throw new Error(
          `bulk import of resources ${start}…${nextStart - 1} answered ${answer.status}: ${answer.body}`,
        );
      }
      const counts = JSON.parse(answer.body) as { created?: number; updated?: number; tags?: number };
      if (
        (counts.created ?? 0) + (counts.updated ?? 0) !== current.count ||
        (counts.tags !== undefined && counts.tags !== current.tags)
      ) {
        throw new Error(
          `bulk import chunk at ${start}: ${answer.body} for ${current.count} resources, ${current.tags} tags`,
        );
      }
      tags += current.tags;
      chunks++;
      start = nextStart;
      if (next) current = next;
      if (performance.now() - lastReport > 10_000) {
        lastReport = performance.now();
        log(`  … imported ${start.toLocaleString("en-US")} of ${n.toLocaleString("en-US")}`);
      }
    }
  } finally {
    importing = false;
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuShare(cpuAtStart, cpuSnapshot(tagd.pid, databaseComm));
  const readFailure = await reading;
  if (readFailure) throw readFailure;
  const sorted = Float64Array.from(readLatencies).sort();
  return {
    resources: n,
    tags,
    seconds,
    resourcesPerSecond: n / seconds,
    tagsPerSecond: tags / seconds,
    clientSeconds: clientMs / 1000,
    chunks,
    ...(cpu ? { cpu } : {}),
    ...(sorted.length > 0 ? { reads: { count: sorted.length, ...latencyStats(sorted) } } : {}),
  };
}
