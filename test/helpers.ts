import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import EcsModule from "@alicloud/ecs20140526";
import KmsLegacyModule from "@alicloud/kms20160120";
import OpenApiModule, * as OpenApi from "@alicloud/openapi-client";
import { Config as RpcConfig } from "@alicloud/rpc-client";
import { KMSClient } from "@aws-sdk/client-kms";
import {
  GetResourcesCommand,
  ResourceGroupsTaggingAPIClient,
  TagResourcesCommand,
  UntagResourcesCommand,
} from "@aws-sdk/client-resource-groups-tagging-api";
import { parseConfig, type TagdConfig } from "../src/config.ts";
import { createServer, type Tagd } from "../src/server.ts";
import { dropSchema, type EngineUnderTest } from "./store/engines.ts";

/** Accounts every test server knows. AWS: 111111111111 (management) and 222222222222; Alibaba: one. */
export const ACCOUNT_A = "111111111111";
export const ACCOUNT_B = "222222222222";
export const KEY_A = { accessKeyId: "AKIDACCOUNTA", secretAccessKey: "secret-of-account-a" };
export const KEY_B = { accessKeyId: "AKIDACCOUNTB", secretAccessKey: "secret-of-account-b" };
export const ADMIN_TOKEN = "admin-token-for-tests";
/** Alibaba Cloud accounts every test server knows, and their keys. */
export const ALIBABA_ACCOUNT = "1000000000000001";
export const ALIBABA_ACCOUNT_2 = "1000000000000002";
/** The default resource group of ALIBABA_ACCOUNT in the test configuration. */
export const ALIBABA_DEFAULT_GROUP = "rg-acfmdefault0001";
export const ALIBABA_KEY = { accessKeyId: "LTAItest", accessKeySecret: "alibaba-secret" };
export const ALIBABA_KEY_2 = { accessKeyId: "LTAIother", accessKeySecret: "other-alibaba-secret" };

/** The ECS client class of `@alicloud/ecs20140526` (a CommonJS module: the class is its default). */
export const EcsClient = EcsModule.default;
export type EcsClient = InstanceType<typeof EcsClient>;
/**
 * The legacy Alibaba KMS client of `@alicloud/kms20160120` (on `@alicloud/rpc-client`: v1 signature
 * only, the legacy `TagResource` / `UntagResource` / `ListResourceTags`, no `RegionId` on the wire).
 */
export const KmsLegacyClient = KmsLegacyModule.default;
export type KmsLegacyClient = InstanceType<typeof KmsLegacyClient>;
/** The generic Alibaba client (`callApi`), for requests the typed clients cannot make. */
export const AliyunApiClient = OpenApiModule.default;
export type AliyunApiClient = InstanceType<typeof AliyunApiClient>;

export interface AliyunClientOptions {
  /** `'v2'`: the legacy v1 HMAC-SHA1 signature; absent: ACS3-HMAC-SHA256, the SDKs' default. */
  signatureAlgorithm?: "v2";
}

export function testConfig(overrides: Record<string, unknown> = {}): TagdConfig {
  return parseConfig({
    inventory: "open",
    adminToken: ADMIN_TOKEN,
    accounts: [
      {
        id: ACCOUNT_A,
        cloud: "aws",
        management: true,
        accessKeys: [{ accessKeyId: KEY_A.accessKeyId, secret: KEY_A.secretAccessKey }],
      },
      {
        id: ACCOUNT_B,
        cloud: "aws",
        accessKeys: [{ accessKeyId: KEY_B.accessKeyId, secret: KEY_B.secretAccessKey }],
      },
      {
        id: ALIBABA_ACCOUNT,
        cloud: "alibaba",
        accessKeys: [{ accessKeyId: ALIBABA_KEY.accessKeyId, secret: ALIBABA_KEY.accessKeySecret }],
        defaultResourceGroupId: ALIBABA_DEFAULT_GROUP,
      },
      {
        id: ALIBABA_ACCOUNT_2,
        cloud: "alibaba",
        accessKeys: [{ accessKeyId: ALIBABA_KEY_2.accessKeyId, secret: ALIBABA_KEY_2.accessKeySecret }],
      },
    ],
    ...overrides,
  });
}

export interface TestServer {
  tagd: Tagd;
  url: string;
  dataDir: string;
  /** A tagging client for account A (or the given key) in a region (us-east-1 by default). */
  tagging(region?: string, key?: typeof KEY_A): ResourceGroupsTaggingAPIClient;
  /** A KMS client for account A (or the given key) in a region (us-east-1 by default). */
  kms(region?: string, key?: typeof KEY_A): KMSClient;
  /** The official ECS client for an Alibaba key (ALIBABA_KEY by default); region cn-hangzhou. */
  ecs(region?: string, key?: typeof ALIBABA_KEY, options?: AliyunClientOptions): EcsClient;
  /** The legacy Alibaba KMS client for an Alibaba key (ALIBABA_KEY by default). */
  kmsLegacy(key?: typeof ALIBABA_KEY): KmsLegacyClient;
  /** The generic Alibaba client (`callApi`) against this server. */
  aliyun(key?: typeof ALIBABA_KEY, options?: AliyunClientOptions): AliyunApiClient;
  /** Calls the admin API; the body is whatever JSON it answered. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read admin answers field by field.
  admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** Stops the server; the data directory stays unless `removeData`. */
  stop(removeData?: boolean): Promise<void>;
}

export interface StartOptions {
  config?: TagdConfig;
  dataDir?: string;
  /** PostgreSQL instead of SQLite, in `schema`. */
  databaseUrl?: string;
  schema?: string;
  now?: () => number;
  /** Whether the server writes compliance reports (default true). */
  reportWorker?: boolean;
  reportLeaseMs?: number;
}

/**
 * Starts tagd in-process on a free port with a fresh data directory. Unless the options name a
 * database, the engine is TAGD_TEST_ENGINE's: `postgres` puts the server in a schema of
 * TAGD_TEST_DATABASE_URL named after the data directory (dropped by `stop(true)`), so every API
 * suite runs on both engines.
 */
export async function startServer(options: StartOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "tagd-test-"));
  const pgUrl = process.env.TAGD_TEST_DATABASE_URL;
  let ownSchema: string | undefined;
  if (options.databaseUrl === undefined && process.env.TAGD_TEST_ENGINE === "postgres") {
    if (!pgUrl) throw new Error("TAGD_TEST_ENGINE=postgres needs TAGD_TEST_DATABASE_URL");
    // Derived from the data directory, so a restart on the same directory finds the same data.
    ownSchema = `tagd_api_${createHash("sha256").update(dataDir).digest("hex").slice(0, 16)}`;
    options = { ...options, databaseUrl: pgUrl, schema: ownSchema };
  }
  const tagd = await createServer({
    config: options.config ?? testConfig(),
    dataDir,
    databaseUrl: options.databaseUrl,
    schema: options.schema,
    now: options.now,
    reportWorker: options.reportWorker,
    reportLeaseMs: options.reportLeaseMs,
  });
  await tagd.app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = tagd.app.server.address() as AddressInfo;
  const server = clientsFor(`http://127.0.0.1:${port}`, dataDir, tagd);
  if (!ownSchema) return server;
  const schema = ownSchema;
  return {
    ...server,
    async stop(removeData = false) {
      await server.stop(removeData);
      if (removeData && pgUrl) await dropSchema(pgUrl, schema);
    },
  };
}

/** SDK and admin clients for a tagd at `url`; `tagd` is the in-process server, if it is one. */
export function clientsFor(url: string, dataDir: string, tagd?: Tagd): TestServer {
  const clients: { destroy(): void }[] = [];
  return {
    tagd: tagd as Tagd,
    url,
    dataDir,
    tagging(region = "us-east-1", key = KEY_A) {
      const client = new ResourceGroupsTaggingAPIClient({
        endpoint: url,
        region,
        credentials: key,
        maxAttempts: 1,
      });
      clients.push(client);
      return client;
    },
    kms(region = "us-east-1", key = KEY_A) {
      const client = new KMSClient({ endpoint: url, region, credentials: key, maxAttempts: 1 });
      clients.push(client);
      return client;
    },
    ecs(region = "cn-hangzhou", key = ALIBABA_KEY, options = {}) {
      return new EcsClient(aliyunConfig(url, region, key, options));
    },
    kmsLegacy(key = ALIBABA_KEY) {
      return new KmsLegacyClient(
        new RpcConfig({ ...key, endpoint: new URL(url).host, protocol: "http", regionId: "cn-hangzhou" }),
      );
    },
    aliyun(key = ALIBABA_KEY, options = {}) {
      return new AliyunApiClient(aliyunConfig(url, "cn-hangzhou", key, options));
    },
    async admin(method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : undefined };
    },
    async stop(removeData = false) {
      for (const c of clients) c.destroy();
      await tagd?.close();
      if (removeData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The error an SDK call rejects with: its code, HTTP status and message. */
export async function sdkError(
  promise: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode, message: e.message };
  }
  throw new Error("expected the call to fail, but it succeeded");
}

export function ec2Arn(id: string, account = ACCOUNT_A, region = "us-east-1"): string {
  return `arn:aws:ec2:${region}:${account}:instance/${id}`;
}

/**
 * Starts tagd as a separate process (`src/main.ts`) — a second instance on the same store, the way
 * several instances share one SQLite file or one PostgreSQL database.
 */
export async function spawnInstance(options: {
  config: TagdConfig;
  dataDir: string;
  databaseUrl?: string;
  /** `--workers`: resolves once the primary says all of them listen. */
  workers?: number;
}): Promise<TestServer & { process: ChildProcess; output(): string }> {
  const configFile = join(options.dataDir, `config-${process.pid}-${Date.now()}.json`);
  writeFileSync(configFile, JSON.stringify(options.config));
  const args = [
    "--import",
    "tsx",
    "src/main.ts",
    "--port",
    "0",
    "--data-dir",
    options.dataDir,
    "--config",
    configFile,
  ];
  if (options.databaseUrl) args.push("--database-url", options.databaseUrl);
  if (options.workers) args.push("--workers", String(options.workers));
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`instance did not start: ${out}`)), 30_000);
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const m = out.match(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
      if (m?.[1] && ((options.workers ?? 1) === 1 || out.includes("all workers listening"))) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on("exit", (code) => reject(new Error(`instance exited with ${code}: ${out}`)));
  });
  const server = clientsFor(url, options.dataDir);
  return {
    ...server,
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * Runs `fn` with two tagd instances on one store (fresh for the call): on PostgreSQL two servers in
 * this process; on SQLite the second is a process of its own on the same file, since a second
 * connection in this process would block the event loop while it waits for the write lock.
 */
export async function withTwoInstances(
  engine: EngineUnderTest,
  fn: (one: TestServer, two: TestServer) => Promise<void>,
  // No paginationSecret: the first instance stores one in the database, the second reads it.
  config: TagdConfig = testConfig(),
): Promise<void> {
  const scratch = await engine.scratch();
  const one = await startServer({ config, ...scratch });
  const two =
    engine.name === "sqlite"
      ? await spawnInstance({ config, dataDir: scratch.dataDir })
      : await startServer({ config, ...scratch });
  try {
    await fn(one, two);
  } finally {
    await two.stop();
    await one.stop();
    await scratch.dispose();
  }
}

/** Tags resources through the SDK (20 ARNs a call) and asserts that none failed. */
export async function tag(c: ResourceGroupsTaggingAPIClient, arns: string[], tags: Record<string, string>) {
  for (let i = 0; i < arns.length; i += 20) {
    const out = await c.send(new TagResourcesCommand({ ResourceARNList: arns.slice(i, i + 20), Tags: tags }));
    assert.deepEqual(out.FailedResourcesMap, {});
  }
}

/** Untags resources through the SDK and asserts that none failed. */
export async function untag(c: ResourceGroupsTaggingAPIClient, arns: string[], keys: string[]) {
  const out = await c.send(new UntagResourcesCommand({ ResourceARNList: arns, TagKeys: keys }));
  assert.deepEqual(out.FailedResourcesMap, {});
}

/** A resource's tags as GetResources lists them, as an object; undefined when it is not listed. */
export async function tagsOf(c: ResourceGroupsTaggingAPIClient, arn: string) {
  const out = await c.send(new GetResourcesCommand({ ResourceARNList: [arn] }));
  const hit = out.ResourceTagMappingList?.find((m) => m.ResourceARN === arn);
  return hit ? Object.fromEntries((hit.Tags ?? []).map((t) => [t.Key, t.Value])) : undefined;
}

function aliyunConfig(url: string, region: string, key: typeof ALIBABA_KEY, options: AliyunClientOptions) {
  return new OpenApi.Config({
    ...key,
    endpoint: new URL(url).host,
    protocol: "http",
    regionId: region,
    ...(options.signatureAlgorithm ? { signatureAlgorithm: options.signatureAlgorithm } : {}),
  });
}

/** The error an Alibaba SDK call rejects with: code, HTTP status, message and the body's fields. */
export async function aliError(promise: Promise<unknown>): Promise<{
  code: string;
  status: number;
  message: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the error body field by field.
  data: any;
}> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code: string; statusCode: number; message: string; data?: unknown };
    return { code: e.code, status: e.statusCode, message: e.message, data: e.data };
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** The two signatures the Alibaba SDKs make, for suites that run once per signature. */
export const ALIBABA_SIGNATURES: { name: string; options: AliyunClientOptions }[] = [
  { name: "ACS3-HMAC-SHA256", options: {} },
  { name: "v1 HMAC-SHA1", options: { signatureAlgorithm: "v2" } },
];

/**
 * An Alibaba resource's tags as tagd's store holds them, as an object; undefined when never tagged.
 * ECS instances by default.
 */
export async function ecsTagsOf(
  server: TestServer,
  id: string,
  options: { type?: string; region?: string; account?: string; service?: string } = {},
): Promise<Record<string, string> | undefined> {
  const { type = "instance", region = "cn-hangzhou", account = ALIBABA_ACCOUNT, service = "ecs" } = options;
  const name = `acs:${service}:${region}:${account}:${type}/${id}`;
  const [hit] = await server.tagd.store.getTagged(account, region, [name]);
  return hit ? Object.fromEntries(hit.tags.map((t) => [t.key, t.value])) : undefined;
}

/** An Alibaba KMS key's (or, with `type: "secret"`, a secret's) tags as tagd's store holds them. */
export function aliKmsTagsOf(
  server: TestServer,
  id: string,
  options: { type?: "key" | "secret"; region?: string; account?: string } = {},
): Promise<Record<string, string> | undefined> {
  return ecsTagsOf(server, id, { type: "key", ...options, service: "kms" });
}

/**
 * The error a legacy Alibaba client call rejects with. `@alicloud/rpc-client` reports the code with
 * `Error` appended and the status only inside its message (`code: 404, …`): both are undone here.
 */
export async function legacyError(promise: Promise<unknown>): Promise<{
  code: string;
  status: number;
  message: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read the error body field by field.
  data: any;
}> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code: string; message: string; data?: { Message?: string } };
    const status = /code: (\d{3}),/.exec(e.message)?.[1];
    return {
      code: e.code.replace(/Error$/, ""),
      status: Number(status),
      message: e.data?.Message ?? e.message,
      data: e.data,
    };
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/**
 * Calls any RPC action through the generic client (`callApi`, as the current KMS SDK does): the
 * parameters go out as given — also malformed ones a typed client cannot produce — and are signed
 * by the SDK. `body` parameters travel as a form body.
 */
export async function callRpc(
  server: TestServer,
  action: string,
  query: Record<string, string>,
  options: AliyunClientOptions & {
    key?: typeof ALIBABA_KEY;
    version?: string;
    method?: "POST" | "GET";
    body?: Record<string, string>;
  } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field.
): Promise<any> {
  const client = server.aliyun(options.key, options);
  return client.callApi(
    new OpenApi.Params({
      action,
      version: options.version ?? "2014-05-26",
      protocol: "HTTP",
      pathname: "/",
      method: options.method ?? "POST",
      authType: "AK",
      style: "RPC",
      reqBodyType: "formData",
      bodyType: "json",
    }),
    new OpenApi.OpenApiRequest({ query, ...(options.body ? { body: options.body } : {}) }),
    {} as never,
  );
}
