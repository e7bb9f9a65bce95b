import type { Deps } from "../../deps.ts";
import { isAlibabaRegion } from "../../domain/alibaba-regions.ts";
import type { HeldResource, Tag } from "../../domain/resource.ts";
import type { ListSpec, ParamTable, ScalarSpec } from "../../protocols/aliyun-params.ts";
import type { RpcContext } from "../../protocols/aliyun-rpc.ts";
import {
  addTags as addAliyunTags,
  duplicateKeys,
  removableKeyProblem,
  resolveRecords,
  tagRuleProblem,
} from "../aliyun-common.ts";
import { type EcsErrorCode, ecsError, ecsSpec } from "./errors.ts";
import { ecsResourceType } from "./resource-types.ts";

export type EcsContext = RpcContext<Deps>;

// Parameter specs the actions share. The tag service's own actions (TagResources, UntagResources,
// ListTagResources) answer a missing parameter with `MissingParameter.<Name>` (404, seed 001); the
// older AddTags / RemoveTags with the gateway's `MissingParameter` (400).
export const REGION_ID = { type: "string", required: true, maxLength: 64 } as const satisfies ScalarSpec;
export const RESOURCE_TYPE = { type: "string", required: true, maxLength: 64 } as const satisfies ScalarSpec;
export const RESOURCE_ID = { type: "string", required: true, maxLength: 128 } as const satisfies ScalarSpec;
export const TAG_SERVICE_REGION_ID = {
  ...REGION_ID,
  missing: ecsSpec("MissingParameter.RegionId"),
} as const satisfies ScalarSpec;
export const TAG_SERVICE_RESOURCE_TYPE = {
  ...RESOURCE_TYPE,
  missing: ecsSpec("MissingParameter.ResourceType"),
} as const satisfies ScalarSpec;
export const RESOURCE_IDS = {
  type: "list",
  member: { type: "string", maxLength: 128 },
  max: 50,
  tooMany: ecsSpec("NumberExceed.ResourceIds"),
  required: true,
  missing: ecsSpec("MissingParameter.ResourceIds"),
} as const satisfies ListSpec;
const TAG_MEMBERS = { Key: { type: "string" }, Value: { type: "string" } } as const;
/** `Tag.N.Key` / `Tag.N.Value`, N 1–20; lengths and prefixes are checked by `validateTags`. */
export const TAGS = {
  type: "list",
  member: { type: "struct", members: TAG_MEMBERS },
  max: 20,
  tooMany: ecsSpec("InvalidTagCount"),
} as const satisfies ListSpec;
/**
 * AddTags / RemoveTags: the seed lists `Tag.N.key` / `Tag.N.value` as older spellings "to improve
 * compatibility"; both spellings are taken.
 */
export const LEGACY_TAGS = {
  ...TAGS,
  member: { type: "struct", members: TAG_MEMBERS, aliases: { key: "Key", value: "Value" } },
  required: true,
} as const satisfies ListSpec;

/** The parameters of the deprecated one-resource actions, AddTags and RemoveTags alike. */
export const LEGACY_PARAMS = {
  RegionId: REGION_ID,
  ResourceType: RESOURCE_TYPE,
  ResourceId: RESOURCE_ID,
  Tag: LEGACY_TAGS,
} as const satisfies ParamTable;

/** `InvalidRegionId.NotFound` for a region Alibaba Cloud does not have. */
export function requireRegion(region: string): string {
  if (!isAlibabaRegion(region)) throw ecsError("InvalidRegionId.NotFound");
  return region;
}

export interface TagEntry {
  Key?: string;
  Value?: string;
}

/**
 * Checks a request's tags against the AddTags rules, in the order a caller would fix them: a key or
 * value without its partner, then each key and value, then duplicates — exact ones
 * (`Duplicate.TagKey`) and ones that differ only in case (`TagKey.Duplication`, 403).
 * `valueRequired`: AddTags wants "a key-value pair"; TagResources lets the value default to "".
 */
export function validateTags(entries: TagEntry[], valueRequired: boolean): Tag[] {
  const tags: Tag[] = [];
  entries.forEach((entry, i) => {
    const n = i + 1;
    if (entry.Key === undefined || (valueRequired && entry.Value === undefined))
      throw ecsError("InvalidTag.Mismatch", { n });
    const key = entry.Key;
    const value = entry.Value ?? "";
    const problem = tagRuleProblem(key, value);
    if (problem)
      throw ecsError(problem.part === "Key" ? "InvalidTagKey.Malformed" : "InvalidTagValue.Malformed", { n });
    tags.push({ key, value });
  });
  requireDistinctKeys(tags.map((t) => t.key));
  return tags;
}

/** `Duplicate.TagKey` for a key given twice, `TagKey.Duplication` for keys equal but for case. */
export function requireDistinctKeys(keys: string[]): void {
  const duplicate = duplicateKeys(keys);
  if (duplicate === "exact") throw ecsError("Duplicate.TagKey");
  if (duplicate === "case") throw ecsError("TagKey.Duplication");
}

/**
 * The resources a write names, as inventory records of the caller's account and region. The type
 * must be one the action takes; an id must have its type's form; in strict inventory mode it must be
 * registered. All of it is checked before anything is written.
 */
export async function resolveTargets(
  ctx: EcsContext,
  region: string,
  resourceType: string,
  ids: string[],
  legacyOnly: boolean,
): Promise<HeldResource[]> {
  const type = ecsResourceType(resourceType, legacyOnly);
  if (!type) throw ecsError("InvalidResourceType.NotFound");
  for (const id of ids) {
    if (type.notTaggable?.test(id)) throw ecsError("InvalidResourceId.NotSupported");
    if (!type.id.test(id)) throw ecsError("InvalidResourceId.NotFound");
  }
  return resolveRecords(ctx, { region, service: "ecs", resourceType }, ids, () =>
    ecsError("InvalidResourceId.NotFound"),
  );
}

/** Adds `tags` to every record (see the shared `addTags`), answering the limit with `quotaCode`. */
export async function addTags(
  ctx: EcsContext,
  records: HeldResource[],
  tags: Tag[],
  quotaCode: EcsErrorCode,
): Promise<void> {
  await addAliyunTags(ctx, records, tags, {
    quota: (detail) =>
      quotaCode === "QuotaExceed.Tags" ? ecsError(quotaCode, { detail }) : ecsError(quotaCode),
    notFound: () => ecsError("InvalidResourceId.NotFound"),
    policy: (detail) => ecsError("OperationDenied.TagPolicy", { detail }),
  });
}

/** `InvalidTagKey.Malformed` for a key a caller may not name in a removal (empty, too long, reserved). */
export function requireRemovableKey(key: string, param: string): void {
  if (removableKeyProblem(key)) throw ecsError("InvalidTagKey.Malformed", { detail: `(${param})` });
}

/**
 * Parameters of the tag service that only Alibaba Cloud's own services may set (tagging on behalf of
 * another owner, system-scope tags): an account's caller setting one is refused, as the
 * ListTagResources table documents (`PermissionDenied.TagOwnerUid` / `.TagOwnerBid` / `.Scope`, 403).
 */
export const OWNER_PARAMS = {
  TagOwnerUid: { type: "string", maxLength: 64 },
  TagOwnerBid: { type: "string", maxLength: 64 },
  Scope: { type: "string", maxLength: 64 },
} as const satisfies ParamTable;

export function refuseOwnerParams(req: { TagOwnerUid?: string; TagOwnerBid?: string; Scope?: string }): void {
  if (req.TagOwnerUid !== undefined) throw ecsError("PermissionDenied.TagOwnerUid");
  if (req.TagOwnerBid !== undefined) throw ecsError("PermissionDenied.TagOwnerBid");
  if (req.Scope !== undefined) throw ecsError("PermissionDenied.Scope");
}
