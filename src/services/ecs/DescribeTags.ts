import { resolveResourceInput } from "../../domain/inventory.ts";
import type { ParamsOf, ParamTable } from "../../protocols/aliyun-params.ts";
import type { TagPairCount } from "../../store/store.ts";
import { codePoints } from "../../validation.ts";
import { type EcsContext, LEGACY_TAGS, REGION_ID, requireRegion } from "./common.ts";
import { ecsError } from "./errors.ts";
import { ECS_RESOURCE_TYPES, ecsResourceType } from "./resource-types.ts";

/**
 * `ResourceTypeCount` members, as ECS names them, for the types it counts; resources of the other
 * types still make a pair appear, uncounted.
 */
const COUNTED: Readonly<Record<string, string>> = {
  ddh: "Ddh",
  disk: "Disk",
  eni: "Eni",
  image: "Image",
  instance: "Instance",
  keypair: "KeyPair",
  launchtemplate: "LaunchTemplate",
  reservedinstance: "ReservedInstance",
  securitygroup: "Securitygroup",
  snapshot: "Snapshot",
  snapshotpolicy: "SnapshotPolicy",
  volume: "Volume",
};

/** Reads only: runs while the request's nonce is recorded. */
export const readOnly = true;

export const params = {
  RegionId: REGION_ID,
  ResourceType: { type: "string", maxLength: 64 },
  ResourceId: { type: "string", maxLength: 128 },
  Tag: { ...LEGACY_TAGS, required: false },
  Category: { type: "string", maxLength: 64 },
  PageNumber: { type: "integer", min: 1, max: 1_000_000 },
  PageSize: { type: "integer", min: 1, max: 100 },
} as const satisfies ParamTable;

type Request = ParamsOf<typeof params>;

/**
 * DescribeTags (deprecated, still called): the (key, value) pairs the account's ECS resources carry in
 * the region — of one type, of one resource, or of the given `Tag.N` (a key alone: all its values) —
 * in key and value order, each with its resources counted by type. Page-numbered (PageSize 1–100,
 * default 50). The counts are kept current by every tag write, so a page costs the same at any size.
 */
export async function handler(ctx: EcsContext, req: Request) {
  const region = requireRegion(req.RegionId as string);
  const pageSize = req.PageSize ?? 50;
  const pageNumber = req.PageNumber ?? 1;
  const resourceType = req.ResourceType;
  if (resourceType !== undefined && !ecsResourceType(resourceType, false))
    throw ecsError("InvalidResourceType.NotFound");
  const tags = (req.Tag ?? []).map((t, i) => {
    if (t.Key === undefined) throw ecsError("InvalidTag.Mismatch", { n: i + 1 });
    const length = codePoints(t.Key);
    if (length < 1 || length > 128) throw ecsError("InvalidTagKey.Malformed", { n: i + 1 });
    return t.Value === undefined ? { key: t.Key } : { key: t.Key, value: t.Value };
  });
  const offset = (pageNumber - 1) * pageSize;
  const { total, items } =
    req.ResourceId !== undefined
      ? await ofResource(ctx, region, req.ResourceId, resourceType, tags, offset, pageSize)
      : await ctx.deps.store.describeTagPairs({
          accountId: ctx.accountId,
          region,
          service: "ecs",
          ...(resourceType !== undefined ? { resourceType } : {}),
          ...(tags.length > 0 ? { tags } : {}),
          offset,
          limit: pageSize,
        });
  return {
    PageSize: pageSize,
    PageNumber: pageNumber,
    TotalCount: total,
    Tags: {
      Tag: items.map((p) => ({
        TagKey: p.key,
        TagValue: p.value,
        ResourceTypeCount: Object.fromEntries(
          Object.entries(COUNTED).map(([type, name]) => [name, p.counts[type] ?? 0]),
        ),
      })),
    },
  };
}

/** The pairs of one resource, each counted once for its type; the type may be left for the id to tell. */
async function ofResource(
  ctx: EcsContext,
  region: string,
  resourceId: string,
  resourceType: string | undefined,
  tags: { key: string; value?: string }[],
  offset: number,
  limit: number,
): Promise<{ total: number; items: TagPairCount[] }> {
  const types =
    resourceType !== undefined
      ? [resourceType]
      : Object.keys(ECS_RESOURCE_TYPES).filter((t) => ECS_RESOURCE_TYPES[t]?.id.test(resourceId));
  const names = types.map(
    (type) =>
      resolveResourceInput({
        cloud: "alibaba",
        accountId: ctx.accountId,
        region,
        service: "ecs",
        resourceType: type,
        resourceId,
      }).name,
  );
  const found = await ctx.deps.store.getTagged(ctx.accountId, region, names);
  const pairs: TagPairCount[] = found
    .flatMap((r) => r.tags.map((t) => ({ key: t.key, value: t.value, counts: { [r.resourceType]: 1 } })))
    .filter(
      (p) =>
        tags.length === 0 ||
        tags.some((t) => t.key === p.key && (t.value === undefined || t.value === p.value)),
    )
    .sort((a, b) =>
      a.key < b.key ? -1 : a.key > b.key ? 1 : a.value < b.value ? -1 : a.value > b.value ? 1 : 0,
    );
  return { total: pairs.length, items: pairs.slice(offset, offset + limit) };
}
