import { mix32, prng } from "./inventory.ts";
import type { BenchRequest } from "./load.ts";

/**
 * What the benchmark's operations are made of: the APIs they call, the environment their set-up gets,
 * and the helpers several of them share (operations.ts, operations-alibaba.ts).
 */

/** An AWS JSON 1.1 API: how its requests are signed and routed. */
export interface AwsApi {
  dialect: "aws";
  /** SigV4 signing name. */
  signingName: string;
  /** `X-Amz-Target` prefix, before the `.Operation`. */
  targetPrefix: string;
}

/** An Alibaba Cloud RPC API at one version, signed with ACS3-HMAC-SHA256 (the SDKs' default). */
export interface AliyunApi {
  dialect: "aliyun";
  version: string;
}

export type ApiTarget = AwsApi | AliyunApi;

export const TAGGING: AwsApi = {
  dialect: "aws",
  signingName: "tagging",
  targetPrefix: "ResourceGroupsTaggingAPI_20170126",
};

export const KMS: AwsApi = { dialect: "aws", signingName: "kms", targetPrefix: "TrentService" };
export const ECS: AliyunApi = { dialect: "aliyun", version: "2014-05-26" };
export const ALIBABA_KMS: AliyunApi = { dialect: "aliyun", version: "2016-01-20" };

export interface OpEnv {
  /** Resources in the inventory: indices 0 … n-1. */
  n: number;
  /** A signed call to the server, answer body read in full. */
  call(api: ApiTarget, operation: string, body: unknown): Promise<{ status: number; body: string }>;
  /** tagd's process id and data directory (report buckets live under it). */
  pid: number;
  dataDir: string;
  /** POSTs to the admin bulk import (set-up only, never measured); throws unless it answers 200. */
  adminImport(body: unknown): Promise<void>;
  /** Any admin API call (set-up only, never measured). */
  adminCall(method: string, path: string, body?: unknown): Promise<{ status: number; body: string }>;
}

export interface OpInstance {
  request(i: number): BenchRequest;
  /** For a 2xx answer: an error label when it still failed. */
  failed?(body: string): string | null;
  /** A remark for the report once the operation has run. */
  note?(): string | undefined;
}

export interface OpDefinition {
  id: string;
  label: string;
  kind: "read" | "write";
  api: ApiTarget;
  /**
   * Prepares the operation on a seeded server and checks one answer of each request shape, so that a
   * fast but empty answer cannot pass for a result; throws when the answer is not what it must be.
   */
  setup(env: OpEnv): Promise<OpInstance>;
}

export const BENCH_KEYS = ["bench-k1", "bench-k2", "bench-k3", "bench-k4", "bench-k5"];

/** The random stream of iteration `i` of an operation: the same every run. */
export const streamOf = (salt: number, i: number) => prng(mix32(i) ^ salt);

export function distinctIndices(rnd: () => number, n: number, count: number): number[] {
  const out = new Set<number>();
  const want = Math.min(count, n);
  while (out.size < want) out.add(Math.floor(rnd() * n));
  return [...out];
}

export function benchTags(rnd: () => number): Record<string, string> {
  return Object.fromEntries(BENCH_KEYS.map((k) => [k, `v-${Math.floor(rnd() * 1e9).toString(36)}`]));
}

/** A FailedResourcesMap other than `{}` is an error even under a 200. */
export function failedResources(body: string): string | null {
  if (body.includes('"FailedResourcesMap":{}')) return null;
  try {
    const map = (JSON.parse(body) as { FailedResourcesMap?: Record<string, { ErrorCode?: string }> })
      .FailedResourcesMap;
    const first = Object.values(map ?? {})[0];
    return first ? `FailedResourcesMap ${first.ErrorCode ?? "?"}` : null;
  } catch {
    return "unparsable answer";
  }
}

export async function expectOk(env: OpEnv, api: ApiTarget, op: string, body: unknown): Promise<unknown> {
  const answer = await env.call(api, op, body);
  if (answer.status !== 200) {
    throw new Error(`${op} ${JSON.stringify(body).slice(0, 200)} answered ${answer.status}: ${answer.body}`);
  }
  return JSON.parse(answer.body);
}

/** Registers `resources` through the admin import (set-up, unmeasured), in calls of at most 10,000. */
export async function importAll(env: OpEnv, resources: unknown[]): Promise<void> {
  for (let i = 0; i < resources.length; i += 10_000)
    await env.adminImport({ resources: resources.slice(i, i + 10_000) });
}

export function target(api: AwsApi, op: string) {
  return `${api.targetPrefix}.${op}`;
}

/** The bench-k* keys with a value, put (unmeasured) on the resources a removal operation draws from. */
export const BENCH_REMOVABLE: Record<string, string> = Object.fromEntries(
  BENCH_KEYS.map((k) => [k, "to-be-removed"]),
);

/**
 * For a removal operation over resources that all carry the bench-k* keys beforehand: a resource's
 * first draw removes them, later draws find nothing to remove. The note says how many were real.
 */
export class RemovalCount {
  private readonly drawn = new Set<number>();
  private draws = 0;

  draw(index: number): void {
    this.draws++;
    this.drawn.add(index);
  }

  note(): string {
    const share = (this.drawn.size / Math.max(1, this.draws)) * 100;
    return (
      `${share.toFixed(0)}% of the ${this.draws.toLocaleString("en-US")} calls (warm-up included) removed ` +
      "the keys; the others found them gone"
    );
  }
}
