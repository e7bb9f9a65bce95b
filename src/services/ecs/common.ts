import type { Deps } from "../../deps.ts";
import { isAlibabaRegion } from "../../domain/alibaba-regions.ts";
import { resolveResourceInput } from "../../domain/inventory.ts";
import type { ResourceRecord, Tag } from "../../domain/resource.ts";
import { ALIBABA_TAG_RULES, perResourceLimit, textProblem } from "../../domain/tags.ts";
import type { ListSpec, ScalarSpec } from "../../protocols/aliyun-params.ts";
import type { RpcContext } from "../../protocols/aliyun-rpc.ts";
import { codePoints } from "../../validation.ts";
import { type EcsErrorCode, ecsError, ecsSpec } from "./errors.ts";
import { ecsResourceType } from "./resource-types.ts";

export type EcsContext = RpcContext<Deps>;

const RULES = ALIBABA_TAG_RULES;

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
    const keyLength = codePoints(key);
    if (keyLength < RULES.keyLength.min || keyLength > RULES.keyLength.max)
      throw ecsError("InvalidTagKey.Malformed", { n });
    if (textProblem(key, RULES.reservedKeyPrefixes, RULES)) throw ecsError("InvalidTagKey.Malformed", { n });
    if (codePoints(value) > RULES.valueLength.max) throw ecsError("InvalidTagValue.Malformed", { n });
    if (textProblem(value, RULES.reservedValuePrefixes ?? [], RULES))
      throw ecsError("InvalidTagValue.Malformed", { n });
    tags.push({ key, value });
  });
  requireDistinctKeys(tags.map((t) => t.key));
  return tags;
}

/** `Duplicate.TagKey` for a key given twice, `TagKey.Duplication` for keys equal but for case. */
export function requireDistinctKeys(keys: string[]): void {
  const exact = new Set<string>();
  const folded = new Set<string>();
  for (const key of keys) {
    if (exact.has(key)) throw ecsError("Duplicate.TagKey");
    exact.add(key);
  }
  for (const key of keys) {
    const lower = key.toLowerCase();
    if (folded.has(lower)) throw ecsError("TagKey.Duplication");
    folded.add(lower);
  }
}

/**
 * The resources a write names, as inventory records of the caller's account and region. The type
 * must be one the action takes; an id must have its type's form; in strict inventory mode it must be
 * registered. All of it is checked before anything is written. The canonical name carries the
 * account and the region, so another account's (or region's) resource of the same id is simply not
 * this one: it stays invisible.
 */
export async function resolveTargets(
  ctx: EcsContext,
  region: string,
  resourceType: string,
  ids: string[],
  legacyOnly: boolean,
): Promise<ResourceRecord[]> {
  const type = ecsResourceType(resourceType, legacyOnly);
  if (!type) throw ecsError("InvalidResourceType.NotFound");
  const records = [...new Set(ids)].map((id) => {
    if (type.notTaggable?.test(id)) throw ecsError("InvalidResourceId.NotSupported");
    if (!type.id.test(id)) throw ecsError("InvalidResourceId.NotFound");
    return resolveResourceInput({
      cloud: "alibaba",
      accountId: ctx.accountId,
      region,
      service: "ecs",
      resourceType,
      resourceId: id,
    });
  });
  const known = await ctx.deps.store.getResources(
    ctx.accountId,
    records.map((r) => r.name),
  );
  if (ctx.deps.inventory !== "open" && records.some((r) => !known.has(r.name)))
    throw ecsError("InvalidResourceId.NotFound");
  return records.map((r) => known.get(r.name) ?? r);
}

/** The tags the resources carry now, by name (none for a resource never tagged). */
export async function currentTags(
  ctx: EcsContext,
  region: string,
  records: ResourceRecord[],
): Promise<Map<string, Tag[]>> {
  const tagged = await ctx.deps.store.getTagged(
    ctx.accountId,
    region,
    records.map((r) => r.name),
  );
  return new Map(tagged.map((t) => [t.name, t.tags]));
}

/** The tags a resource would carry with `set` written over `current`. */
export function merged(current: Tag[], set: Tag[]): number {
  const keys = new Set(current.map((t) => t.key));
  for (const t of set) keys.add(t.key);
  return keys.size;
}

/**
 * A store `check` refusing more than 20 tags on a resource; it runs inside the write transaction, so
 * concurrent writers cannot pass the limit together.
 */
export const withinQuota = perResourceLimit(RULES);

/**
 * Adds `tags` to every record, all or nothing as far as the request can tell: the per-resource limit
 * is checked on every resource before anything is written, and again by the store in each resource's
 * transaction (a concurrent writer that got there first makes this request fail on that resource).
 */
export async function addTags(
  ctx: EcsContext,
  region: string,
  records: ResourceRecord[],
  tags: Tag[],
  quotaCode: EcsErrorCode,
): Promise<void> {
  const quota = (detail: string) =>
    quotaCode === "QuotaExceed.Tags" ? ecsError(quotaCode, { detail }) : ecsError(quotaCode);
  const current = await currentTags(ctx, region, records);
  for (const record of records) {
    const count = merged(current.get(record.name) ?? [], tags);
    if (count > RULES.maxTagsPerResource) {
      throw quota(
        `The resource ${record.resourceId} would have ${count} tags; a resource can have at most ${RULES.maxTagsPerResource}.`,
      );
    }
  }
  const results = await ctx.deps.store.applyTagChanges(
    ctx.accountId,
    records.map((resource) => ({
      resource,
      register: ctx.deps.inventory === "open",
      set: tags,
      remove: [],
      check: withinQuota,
    })),
  );
  for (const result of results) {
    if (result.ok) continue;
    if (result.kind === "ResourceNotFound") throw ecsError("InvalidResourceId.NotFound");
    throw quota(`${result.message}.`);
  }
}

/** `InvalidTagKey.Malformed` for a key a caller may not name in a removal (empty, too long, reserved). */
export function requireRemovableKey(key: string, param: string): void {
  const length = codePoints(key);
  if (
    length < RULES.keyLength.min ||
    length > RULES.keyLength.max ||
    textProblem(key, RULES.reservedKeyPrefixes, RULES)
  )
    throw ecsError("InvalidTagKey.Malformed", { detail: `(${param})` });
}

/**
 * Removes tags from every record: the given keys, or with `all` every tag. A resource tagd has never
 * seen carries no tags, so there is nothing to remove from it (open mode registers nothing here).
 * With `expect`, a key goes only while it still has the expected value: checked inside the write
 * transaction, and false is returned when a concurrent write changed it (nothing was written).
 */
export async function removeTags(
  ctx: EcsContext,
  records: ResourceRecord[],
  removal: { keys: string[]; all: boolean; expect?: ReadonlyMap<string, string> },
): Promise<boolean> {
  if (removal.keys.length === 0 && !removal.all) return true;
  const expect = removal.expect;
  const check = expect
    ? (current: Tag[]) =>
        current.some((t) => expect.has(t.key) && expect.get(t.key) !== t.value)
          ? "changed concurrently"
          : null
    : undefined;
  const results = await ctx.deps.store.applyTagChanges(
    ctx.accountId,
    records.map((resource) => ({
      resource,
      register: false,
      set: [],
      remove: removal.keys,
      removeAll: removal.keys.length === 0 && removal.all,
      ...(check ? { check } : {}),
    })),
  );
  // Removing never adds a tag: the only refusals are a resource the inventory does not hold (nothing
  // to remove) and, with `expect`, a value that changed meanwhile.
  return results.every((r) => r.ok || r.kind === "ResourceNotFound");
}
