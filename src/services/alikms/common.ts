import { ALIBABA_REGIONS, isAlibabaRegion } from "../../domain/alibaba-regions.ts";
import { resolveResourceInput } from "../../domain/inventory.ts";
import type { HeldResource, Tag } from "../../domain/resource.ts";
import type { ServiceError } from "../../errors.ts";
import type { ScalarSpec } from "../../protocols/aliyun-params.ts";
import { invalidParameter } from "../../protocols/aliyun-rpc.ts";
import {
  type AliyunContext,
  duplicateKeys,
  removableKeyProblem,
  resolveRecords,
  tagRuleProblem,
  type WriteErrors,
} from "../aliyun-common.ts";
import { aliKmsError } from "./errors.ts";

export type AliKmsContext = AliyunContext;

/** The inventory's service name for Alibaba KMS resources: `acs:kms:<region>:<account>:key/<id>`. */
export const SERVICE = "kms";

/**
 * The KMS resource types that carry tags, with the form of their ids. A key is `key-` and lower-case
 * letters and digits (`key-hzz62f1cb66fa42qo****` in the reference), or, created before those ids, a
 * UUID (`08c33a6f-4e0a-4a1b-a3fa-7ddf****`). A secret is known by its name: letters, digits and
 * `_ / + = . @ -`, at most 192 characters (CreateSecret's SecretName).
 */
export const ALIKMS_RESOURCE_TYPES: Readonly<Record<string, RegExp>> = {
  key: /^(key-[a-z0-9]{4,64}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/,
  secret: /^[A-Za-z0-9_/+=.@-]{1,192}$/,
};

export const REGION_ID = { type: "string", required: true, maxLength: 64 } as const satisfies ScalarSpec;
export const RESOURCE_TYPE = { type: "string", required: true, maxLength: 16 } as const satisfies ScalarSpec;
const TAG_MEMBERS = { Key: { type: "string" }, Value: { type: "string" } } as const;
/** `ResourceId.N` (or `ResourceId=["…"]`), N 1–50. */
export const RESOURCE_IDS = {
  type: "list",
  member: { type: "string", maxLength: 192 },
  max: 50,
  json: "also",
} as const;
/** `Tag.N.Key` / `Tag.N.Value` (or `Tag=[{"Key":…,"Value":…}]`), N 1–20. */
export const TAGS = {
  type: "list",
  member: { type: "struct", members: TAG_MEMBERS },
  max: 20,
  json: "also",
} as const;

/** `InvalidParameter` naming RegionId for a region Alibaba Cloud does not have. */
export function requireRegion(region: string): string {
  if (!isAlibabaRegion(region))
    throw invalidParameter("RegionId", `'${region}' is not an Alibaba Cloud region`);
  return region;
}

/** The id form of a `ResourceType`; `InvalidParameter` naming it when it is neither key nor secret. */
export function requireResourceType(type: string): RegExp {
  const form = Object.hasOwn(ALIKMS_RESOURCE_TYPES, type) ? ALIKMS_RESOURCE_TYPES[type] : undefined;
  if (!form) throw invalidParameter("ResourceType", "it must be key or secret");
  return form;
}

/**
 * Tags against Alibaba's rules, each problem an `InvalidParameter` naming the parameter
 * (`name(n, "Key")` gives `Tag.3.Key` or `Tags.3.TagKey`); a key given twice is `Duplicate.TagKey`.
 * A tag without a value gets the empty value.
 */
export function validateTags(
  entries: { key: string | undefined; value: string | undefined }[],
  name: (n: number, part: "Key" | "Value") => string,
): Tag[] {
  const tags = entries.map((entry, i) => {
    if (entry.key === undefined) throw invalidParameter(name(i + 1, "Key"), "a tag needs its key");
    const tag = { key: entry.key, value: entry.value ?? "" };
    const problem = tagRuleProblem(tag.key, tag.value);
    if (problem) throw invalidParameter(name(i + 1, problem.part), problem.why);
    return tag;
  });
  requireDistinctKeys(tags.map((t) => t.key));
  return tags;
}

/** `Duplicate.TagKey` for a key given twice; keys are case-sensitive. */
export function requireDistinctKeys(keys: string[]): void {
  if (duplicateKeys(keys) === "exact") throw aliKmsError("Duplicate.TagKey");
}

/** `InvalidParameter` for a key that may not be removed: empty, too long, `aliyun` / `acs:`. */
export function requireRemovableKeys(keys: string[], name: (n: number) => string): void {
  keys.forEach((key, i) => {
    const problem = removableKeyProblem(key);
    if (problem) throw invalidParameter(name(i + 1), problem);
  });
}

/**
 * The resources `ResourceId.N` names, as records of the caller's account and the request's region:
 * an id without its type's form, or in strict inventory mode an unregistered one, is
 * `InvalidResourceId.NotFound`. Checked whole before anything is written.
 */
export async function resolveTargets(
  ctx: AliKmsContext,
  region: string,
  resourceType: string,
  ids: string[],
): Promise<HeldResource[]> {
  const form = requireResourceType(resourceType);
  if (ids.some((id) => !form.test(id))) throw aliKmsError("InvalidResourceId.NotFound");
  return resolveRecords(ctx, { region, service: SERVICE, resourceType }, ids, () =>
    aliKmsError("InvalidResourceId.NotFound"),
  );
}

/** How the batch actions answer a failed write. */
export const BATCH_WRITE_ERRORS: WriteErrors = {
  quota: (detail) => aliKmsError("Rejected.LimitExceeded", detail),
  notFound: () => aliKmsError("InvalidResourceId.NotFound"),
  policy: (detail) => aliKmsError("Forbidden.TagPolicy", detail),
};

/** The one resource a legacy action (TagResource, UntagResource, ListResourceTags) names. */
export interface LegacyTarget {
  /** With the tags it carries now (none when tagd has not seen it). */
  record: HeldResource;
  /** Whether the inventory holds it (in open mode a resource tagd has not seen may still be named). */
  known: boolean;
  notFound(): ServiceError;
}

/**
 * The resource of a legacy action: `KeyId` (an id, or the key's ARN `acs:kms:<region>:<account>:key/<id>`;
 * an alias `alias/…` is `Forbidden.AliasNotFound`, tagd holding no aliases) or `SecretName`; exactly
 * one of them, `CertificateId` being a KMS resource tagd does not hold.
 *
 * The legacy actions have no `RegionId`: the real service takes the region from the endpoint. tagd
 * takes it from a `RegionId` parameter when one is sent, else from a key ARN, else it looks the id up
 * in every region of the caller's account — KMS key ids are unique across regions. A resource that
 * no region holds can be tagged (registered, in open mode) only when the request names its region.
 */
export async function resolveLegacyTarget(
  ctx: AliKmsContext,
  req: { RegionId?: string; KeyId?: string; SecretName?: string; CertificateId?: string },
): Promise<LegacyTarget> {
  const given = (["KeyId", "SecretName", "CertificateId"] as const).filter(
    (p) => req[p] !== undefined && req[p] !== "",
  );
  if (given.length === 0) throw invalidParameter("KeyId", "give one of KeyId, SecretName and CertificateId");
  if (given.length > 1)
    throw invalidParameter(
      given[1] as string,
      `give only one of KeyId, SecretName and CertificateId, not ${given.join(" and ")}`,
    );
  if (given[0] === "CertificateId")
    throw invalidParameter("CertificateId", "tagd holds KMS keys and secrets, not certificates");
  let region = req.RegionId === undefined || req.RegionId === "" ? undefined : requireRegion(req.RegionId);
  const resourceType = given[0] === "KeyId" ? "key" : "secret";
  const notFound = (detail?: string) =>
    aliKmsError(resourceType === "key" ? "Forbidden.KeyNotFound" : "Forbidden.ResourceNotFound", detail);
  let id = (resourceType === "key" ? req.KeyId : req.SecretName) as string;
  if (resourceType === "key") {
    if (id.startsWith("alias/")) throw aliKmsError("Forbidden.AliasNotFound");
    const arn = /^acs:kms:([^:]*):([^:]*):key\/(.+)$/.exec(id);
    if (arn) {
      const [, arnRegion, account, keyId] = arn as unknown as [string, string, string, string];
      // Another account's key is not found, as if it did not exist: no cross-account grants here.
      if (account !== ctx.accountId || !isAlibabaRegion(arnRegion)) throw notFound();
      if (region !== undefined && region !== arnRegion)
        throw invalidParameter("KeyId", `the key's ARN names the region ${arnRegion}, RegionId ${region}`);
      region = arnRegion;
      id = keyId;
    }
  }
  if (!(ALIKMS_RESOURCE_TYPES[resourceType] as RegExp).test(id)) throw notFound();
  const recordIn = (r: string) =>
    resolveResourceInput({
      cloud: "alibaba",
      accountId: ctx.accountId,
      region: r,
      service: SERVICE,
      resourceType,
      resourceId: id,
    });
  const regions = region !== undefined ? [region] : [...ALIBABA_REGIONS];
  const candidates = regions.map(recordIn);
  const known = await ctx.deps.store.getResources(
    ctx.accountId,
    candidates.map((c) => c.name),
  );
  const held = candidates.filter((c) => known.has(c.name));
  if (held.length > 1) {
    throw invalidParameter(
      given[0] as string,
      `the account has a ${resourceType} of this name in ${held.map((h) => h.region).join(", ")}: send RegionId`,
    );
  }
  const [found] = held;
  if (found) return { record: known.get(found.name) as HeldResource, known: true, notFound };
  if (ctx.deps.inventory !== "open") throw notFound();
  if (region === undefined) {
    throw notFound(
      `No region of the account holds it; to tag a ${resourceType} tagd has not seen, send RegionId${resourceType === "key" ? " or the key's ARN" : ""}.`,
    );
  }
  return { record: { ...recordIn(region), tags: [] }, known: false, notFound };
}
