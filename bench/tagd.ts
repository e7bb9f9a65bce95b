import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { AcsSigner, acsQuery } from "./acs3-client.ts";
import { send, waitForHealth } from "./http.ts";
import { ACCOUNT_ID, POLICY_ACCOUNT_ID, REGION } from "./inventory.ts";
import type { RequestSigner } from "./load.ts";
import type { ApiTarget } from "./op-kit.ts";
import {
  type Child,
  freePort,
  onAsyncCleanup,
  onCleanup,
  processTree,
  RssSampler,
  startNode,
} from "./processes.ts";
import { type Credentials, SigV4Signer } from "./sigv4-client.ts";

export type Engine = "sqlite" | "postgres";

export const CREDENTIALS: Credentials = { accessKeyId: "AKIDBENCH", secret: "bench-secret" };
export const ADMIN_TOKEN = "bench-admin-token-000";
/** The Alibaba Cloud account of the ECS operations, and its key. */
export const ALIBABA_ACCOUNT_ID = "1000000000000042";
export const ALIBABA_CREDENTIALS: Credentials = { accessKeyId: "LTAIBENCH", secret: "bench-alibaba-secret" };

const CONFIG = {
  inventory: "open",
  adminToken: ADMIN_TOKEN,
  accounts: [
    {
      id: ACCOUNT_ID,
      cloud: "aws",
      management: true,
      accessKeys: [{ accessKeyId: CREDENTIALS.accessKeyId, secret: CREDENTIALS.secret }],
    },
    {
      id: ALIBABA_ACCOUNT_ID,
      cloud: "alibaba",
      accessKeys: [{ accessKeyId: ALIBABA_CREDENTIALS.accessKeyId, secret: ALIBABA_CREDENTIALS.secret }],
    },
    // A member with a tag policy and no resources: the compliance actions need a policy attached
    // somewhere, and the measured account stays without one (its tag writes are measured as such).
    { id: POLICY_ACCOUNT_ID, cloud: "aws" },
  ],
  organization: { id: "o-benchorg0001", root: "r-bench", accounts: [ACCOUNT_ID, POLICY_ACCOUNT_ID] },
};

export interface TagdInstance {
  engine: Engine;
  port: number;
  pid: number;
  child: Child;
  rss: RssSampler;
  /** tagd's --data-dir (report buckets live under it). */
  dataDir: string;
  /** A keep-alive agent for the orchestrator's own calls (seeding, set-up); not the load generator's. */
  agent: http.Agent;
  signer(api: ApiTarget): RequestSigner;
  call(api: ApiTarget, operation: string, body: unknown): Promise<{ status: number; body: string }>;
  /** Reads the peak RSS, stops tagd, and drops its data (directory or schema). */
  stop(): Promise<{ hwmBytes?: number; sampledMaxBytes: number }>;
}

function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set("options", `-c search_path=${schema}`);
  // URLSearchParams spells a space "+", which the pg URL parser leaves as is: use %20.
  return u.toString().replace(/options=([^&]*)/, (_, v: string) => `options=${v.replace(/\+/g, "%20")}`);
}

async function withPg<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Starts tagd as a child process (`node --import tsx src/main.ts`) on a free port with a fresh data
 * directory, or a fresh PostgreSQL schema, and the benchmark's configuration; resolves once
 * `GET /health` answers 200.
 */
export async function startTagd(options: {
  engine: Engine;
  repoRoot: string;
  databaseUrl?: string;
  label: string;
  /** tagd's --workers (1: one process). */
  workers?: number;
}): Promise<TagdInstance> {
  const dir = mkdtempSync(join(tmpdir(), "tagd-bench-"));
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const forgetDir = onCleanup(removeDir);
  const configFile = join(dir, "config.json");
  writeFileSync(configFile, JSON.stringify(CONFIG, null, 2));

  let databaseArgs: string[] = [];
  let dropSchema: (() => Promise<void>) | undefined;
  let forgetSchema: () => unknown = () => undefined;
  if (options.engine === "postgres") {
    if (!options.databaseUrl) throw new Error("the postgres engine needs a database URL");
    const baseUrl = options.databaseUrl;
    const schema = `tagd_bench_${process.pid}_${options.label}`.replace(/[^a-z0-9_]/g, "_");
    await withPg(baseUrl, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`));
    dropSchema = () =>
      withPg(baseUrl, (c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => {});
    forgetSchema = onAsyncCleanup(dropSchema);
    databaseArgs = ["--database-url", withSearchPath(baseUrl, schema)];
  }

  const port = await freePort();
  // TAGD_BENCH_NODE_FLAGS: extra flags for tagd's node, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeFlags = (process.env.TAGD_BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
  const child = startNode(
    [
      ...nodeFlags,
      "--import",
      "tsx",
      "src/main.ts",
      "--port",
      String(port),
      "--data-dir",
      join(dir, "data"),
      "--config",
      configFile,
      "--log-level",
      "warn",
      // Only when asked: a checkout from before the flag (--tagd) still starts.
      ...((options.workers ?? 1) > 1 ? ["--workers", String(options.workers)] : []),
      ...databaseArgs,
    ],
    options.repoRoot,
  );
  try {
    await waitForHealth(port, 60_000, child.alive);
    // With --workers the first worker answers before the others are forked (it migrates the store
    // alone); they come up during the seeding import, long before anything is measured.
    const workers = options.workers ?? 1;
    const processes = workers > 1 ? workers + 1 : 1;
    const deadline = Date.now() + 60_000;
    while (processTree(child.pid).length < processes) {
      if (!child.alive() || Date.now() > deadline) throw new Error("tagd's workers did not all start");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } catch (err) {
    await child.stop();
    throw new Error(`tagd did not start: ${(err as Error).message}\n${child.output()}`);
  }
  const rss = new RssSampler(child.pid);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const host = `127.0.0.1:${port}`;
  const signers = new Map<string, RequestSigner>();
  const signer = (api: ApiTarget): RequestSigner => {
    const id = api.dialect === "aws" ? `aws:${api.signingName}` : `aliyun:${api.version}`;
    let s = signers.get(id);
    if (!s) {
      s =
        api.dialect === "aws"
          ? new SigV4Signer({ credentials: CREDENTIALS, region: REGION, service: api.signingName, host })
          : new AcsSigner({
              accessKeyId: ALIBABA_CREDENTIALS.accessKeyId,
              secret: ALIBABA_CREDENTIALS.secret,
              version: api.version,
              host,
            });
      signers.set(id, s);
    }
    return s;
  };
  return {
    engine: options.engine,
    port,
    pid: child.pid,
    child,
    rss,
    dataDir: join(dir, "data"),
    agent,
    signer,
    async call(api, operation, body) {
      const request =
        api.dialect === "aws"
          ? { target: `${api.targetPrefix}.${operation}`, body: JSON.stringify(body) }
          : { target: operation, body: acsQuery(body as Record<string, string>) };
      const signed = signer(api).signRequest(request);
      return send({
        agent,
        port,
        path: signed.path,
        headers: signed.headers,
        body: signed.body,
        keepBody: true,
      });
    },
    async stop() {
      const peak = rss.finish();
      agent.destroy();
      await child.stop();
      removeDir();
      forgetDir();
      if (dropSchema) {
        await dropSchema();
        forgetSchema();
      }
      return peak;
    },
  };
}
