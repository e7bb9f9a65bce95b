import assert from "node:assert/strict";
import {
  ALIBABA_ACCOUNT,
  type ALIBABA_KEY,
  type AliyunClientOptions,
  callRpc,
  type TestServer,
} from "../helpers.ts";

/** Shared by the Alibaba KMS suites: calls through the generic client, key ids, registration. */

export const REGION = "cn-hangzhou";
export const VERSION = "2016-01-20";

/**
 * Calls a KMS action through `@alicloud/openapi-client`'s `callApi` (RPC style), as the current KMS SDK
 * does; the parameters go out as given, flattened or as JSON strings.
 */
export function kmsCall(
  server: TestServer,
  action: string,
  query: Record<string, string>,
  options: AliyunClientOptions & { key?: typeof ALIBABA_KEY } = {},
  // biome-ignore lint/suspicious/noExplicitAny: tests read answers field by field.
): Promise<any> {
  return callRpc(server, action, query, { ...options, version: VERSION });
}

/** A key id of the current form (`key-` and lower-case letters and digits), unique per label. */
export function keyId(label: string): string {
  return `key-hzz${label.toLowerCase().replace(/[^a-z0-9]/g, "")}0000`;
}

/** `ResourceId.1 … ResourceId.N` */
export function flatIds(ids: string[]): Record<string, string> {
  return Object.fromEntries(ids.map((id, i) => [`ResourceId.${i + 1}`, id]));
}

/** `Tag.N.Key` / `Tag.N.Value` */
export function flatTags(tags: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(tags).flatMap(([k, v], i) => [
      [`Tag.${i + 1}.Key`, k],
      [`Tag.${i + 1}.Value`, v],
    ]),
  );
}

/** Tags a resource through TagResources (flattened). */
export async function kmsTag(
  server: TestServer,
  ids: string[],
  tags: Record<string, string>,
  options: { type?: string; region?: string; key?: typeof ALIBABA_KEY } = {},
) {
  const { type = "key", region = REGION, key } = options;
  return kmsCall(
    server,
    "TagResources",
    { RegionId: region, ResourceType: type, ...flatIds(ids), ...flatTags(tags) },
    key ? { key } : {},
  );
}

/** Registers KMS resources through the admin API. */
export async function register(
  server: TestServer,
  items: { id: string; type?: string; region?: string; account?: string; tags?: Record<string, string> }[],
) {
  const resources = items.map((r) => ({
    cloud: "alibaba",
    accountId: r.account ?? ALIBABA_ACCOUNT,
    region: r.region ?? REGION,
    service: "kms",
    resourceType: r.type ?? "key",
    resourceId: r.id,
    ...(r.tags ? { tags: r.tags } : {}),
  }));
  const answer = await server.admin("POST", "/admin/v1/resources", { resources });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
}
