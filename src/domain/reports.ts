import { randomUUID } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { TagdConfig } from "../config.ts";
import type { ComplianceRow, Job, ScanCursor, TagStore } from "../store/store.ts";
import type { PolicyEngine } from "./compliance.ts";

/** The job kind of StartReportCreation in the store's job queue. */
export const REPORT_JOB = "compliance-report";
/** "NO REPORT - No report was generated in the last 90 days." */
export const REPORT_RETENTION_MS = 90 * 24 * 3600 * 1000;
/** Resources read per page while a report is written: memory stays at one page, whatever the size. */
export const REPORT_PAGE = 1000;

export interface ReportPayload {
  bucket: string;
  organizationId: string;
  /** The report's folder name, `YYYY-MM-ddTHH:mm:ssZ`. */
  timestamp: string;
}

/** `AwsTagPolicies/<organization id>/<timestamp>/report.csv`, the object key AWS writes. */
export function reportKey(p: ReportPayload): string {
  return `AwsTagPolicies/${p.organizationId}/${p.timestamp}/report.csv`;
}

export function reportTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The report's columns, in order (README: "Tag policies and compliance"). */
export const REPORT_COLUMNS = [
  "AccountId",
  "Region",
  "ResourceType",
  "ResourceArn",
  "ComplianceStatus",
  "NoncompliantKeys",
  "KeysWithNoncompliantValues",
  "Tags",
] as const;

function cell(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV line (RFC 4180) per resource; key lists joined by `;`, the tags as a JSON object. */
export function reportLine(accountId: string, r: ComplianceRow): string {
  const tags: Record<string, string> = {};
  for (const t of JSON.parse(r.tagsJson) as { Key: string; Value: string }[]) tags[t.Key] = t.Value;
  return `${[
    accountId,
    r.region,
    r.resourceType ? `${r.service}:${r.resourceType}` : r.service,
    r.name,
    r.noncompliance ? "false" : "true",
    (r.noncompliance?.noncompliantKeys ?? []).join(";"),
    (r.noncompliance?.keysWithNoncompliantValues ?? []).join(";"),
    JSON.stringify(tags),
  ]
    .map(cell)
    .join(",")}\r\n`;
}

/** Where a report's bytes go: a folder per bucket under the data directory, or an S3 endpoint. */
interface ReportSink {
  write(chunk: string): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

class ReportFailure extends Error {}

function asFailure(err: Error, bucket: string): ReportFailure {
  if (err instanceof ReportFailure) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new ReportFailure(`The Amazon S3 bucket ${bucket} is not accessible: ${code ?? err.message}`);
}

async function folderSink(dataDir: string, bucket: string, key: string): Promise<ReportSink> {
  const root = join(dataDir, "buckets", bucket);
  const found = await stat(root).catch(() => undefined);
  if (!found?.isDirectory()) {
    throw new ReportFailure(
      `The Amazon S3 bucket ${bucket} does not exist (tagd writes reports to the folder buckets/${bucket} of its data directory)`,
    );
  }
  const file = join(root, ...key.split("/"));
  const partial = `${file}.partial`;
  let out: WriteStream;
  try {
    await mkdir(join(file, ".."), { recursive: true });
    out = createWriteStream(partial);
    await new Promise<void>((resolve, reject) => {
      out.once("open", () => resolve());
      out.once("error", reject);
    });
  } catch (err) {
    throw new ReportFailure(
      `The Amazon S3 bucket ${bucket} is not accessible: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  let failed: Error | undefined;
  out.on("error", (err) => {
    failed = err;
  });
  return {
    async write(chunk) {
      if (failed) throw failed;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
    },
    async finish() {
      await new Promise<void>((resolve, reject) =>
        out.end((err?: Error | null) => (err ? reject(err) : resolve())),
      );
      if (failed) throw failed;
      await rename(partial, file);
    },
    async abort() {
      out.destroy();
      await rm(partial, { force: true });
    },
  };
}

type S3Settings = NonNullable<NonNullable<TagdConfig["reports"]>["s3"]>;

function s3Sink(settings: S3Settings, bucket: string, key: string): ReportSink {
  const client = new S3Client({
    endpoint: settings.endpoint,
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    maxAttempts: 3,
  });
  const body = new PassThrough();
  // A multipart upload fed from a stream: parts of 5 MB leave as they fill.
  const upload = new Upload({
    client,
    params: { Bucket: bucket, Key: key, Body: body, ContentType: "text/csv" },
  });
  const done = upload.done().then(
    () => undefined,
    (err: Error & { name?: string }) => err,
  );
  return {
    async write(chunk) {
      if (!body.write(chunk)) {
        const result = await Promise.race([new Promise((resolve) => body.once("drain", resolve)), done]);
        if (result instanceof Error) throw result;
      }
    },
    async finish() {
      body.end();
      const err = await done;
      client.destroy();
      if (err) {
        throw new ReportFailure(
          err.name === "NoSuchBucket"
            ? `The Amazon S3 bucket ${bucket} does not exist`
            : `The Amazon S3 bucket ${bucket} is not accessible: ${err.name}: ${err.message}`,
        );
      }
    },
    async abort() {
      await upload.abort().catch(() => undefined);
      body.destroy();
      client.destroy();
    },
  };
}

export interface ReportWorkerOptions {
  store: TagStore;
  policies: PolicyEngine;
  config: TagdConfig;
  dataDir: string;
  now(): number;
  /** A claim not renewed for this long is taken over by another instance (its owner died). */
  leaseMs?: number;
  /** How often an idle worker looks for pending reports; a report started here is begun at once. */
  pollMs?: number;
}

/**
 * Writes the compliance reports. Each instance runs one; a report is a job in the store, claimed by
 * exactly one instance (renewing its claim while it writes), so it runs once however many instances
 * share the store, and one left by a stopped instance is picked up by another, or after a restart.
 */
export class ReportWorker {
  readonly id = randomUUID();
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(private readonly o: ReportWorkerOptions) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.pollMs = o.pollMs ?? 1_000;
  }

  start(): void {
    this.schedule(0);
  }

  /** Looks for work now (a report was just started on this instance). */
  kick(): void {
    if (!this.running) this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.running) return;
      this.running = this.drain().finally(() => {
        this.running = undefined;
        this.schedule(this.pollMs);
      });
    }, ms);
    this.timer.unref();
  }

  /** Runs every claimable report, one after another. */
  private async drain(): Promise<void> {
    while (!this.stopped) {
      let job: Job | undefined;
      try {
        job = await this.o.store.jobs.claim(REPORT_JOB, this.id, this.o.now(), this.leaseMs);
      } catch {
        return; // the store is unreachable: try again at the next poll
      }
      if (!job) return;
      await this.run(job);
    }
  }

  private async run(job: Job): Promise<void> {
    const payload = JSON.parse(job.payload) as ReportPayload;
    const key = reportKey(payload);
    let sink: ReportSink | undefined;
    let lastRenew = this.o.now();
    try {
      const settings = this.o.config.reports?.s3;
      sink = settings
        ? s3Sink(settings, payload.bucket, key)
        : await folderSink(this.o.dataDir, payload.bucket, key);
      const out = sink;
      // The sink's own failures (a full disk, a refused upload) are the bucket's: the report fails.
      const write = (text: string) =>
        out.write(text).catch((err: Error) => Promise.reject(asFailure(err, payload.bucket)));
      await write(`${REPORT_COLUMNS.join(",")}\r\n`);
      for (const accountId of [...this.o.policies.members()].sort()) {
        let cursor: ScanCursor | undefined;
        for (;;) {
          if (this.stopped) throw new Error("stopped");
          const { rows, next } = await this.o.store.scanCompliance(accountId, cursor, REPORT_PAGE);
          let text = "";
          for (const row of rows) text += reportLine(accountId, row);
          if (text) await write(text);
          if (this.o.now() - lastRenew > this.leaseMs / 3) {
            if (!(await this.o.store.jobs.renew(job.accountId, job.id, this.id, this.o.now()))) {
              throw new Error("the report was taken over by another instance");
            }
            lastRenew = this.o.now();
          }
          if (next === undefined) break;
          cursor = next;
        }
      }
      await sink.finish().catch((err: Error) => Promise.reject(asFailure(err, payload.bucket)));
      await this.o.store.jobs.finish(
        job.accountId,
        job.id,
        this.id,
        { state: "succeeded", result: `s3://${payload.bucket}/${key}` },
        this.o.now(),
      );
    } catch (err) {
      await sink?.abort().catch(() => undefined);
      // Only the bucket is the caller's business; anything else (stopping, a lost claim, the store)
      // leaves the job to its next claim, after the lease.
      if (err instanceof ReportFailure) {
        await this.o.store.jobs
          .finish(job.accountId, job.id, this.id, { state: "failed", error: err.message }, this.o.now())
          .catch(() => undefined);
      }
    }
  }
}
