import { parsePattern } from "../../domain/tag-match.ts";
import type { ParamsOf, ParamTable } from "../../protocols/aliyun-params.ts";
import type { PatternFilter, TagFilterSpec, TextMatch } from "../../store/store.ts";
import { codePoints } from "../../validation.ts";
import { type TagRowQuery, tagRowPage } from "../aliyun-common.ts";
import {
  type EcsContext,
  OWNER_PARAMS,
  refuseOwnerParams,
  requireDistinctKeys,
  requireRegion,
  TAG_SERVICE_REGION_ID,
  TAG_SERVICE_RESOURCE_TYPE,
} from "./common.ts";
import { ecsError, ecsSpec } from "./errors.ts";
import { ecsResourceType } from "./resource-types.ts";

/** Tag-resource rows per page (at most; a resource's rows are never split across pages). */
export const PAGE_ROWS = 50;
/** The tag key that asks for a resource group instead of a tag. */
export const RESOURCE_GROUP_KEY = "acs:rm:rgId";

/** Reads only: runs while the request's nonce is recorded. */
export const readOnly = true;

export const params = {
  RegionId: TAG_SERVICE_REGION_ID,
  ResourceType: TAG_SERVICE_RESOURCE_TYPE,
  ResourceId: {
    type: "list",
    member: { type: "string", maxLength: 128 },
    max: 50,
    tooMany: ecsSpec("NumberExceed.ResourceIds"),
  },
  Tag: {
    type: "list",
    member: { type: "struct", members: { Key: { type: "string" }, Value: { type: "string" } } },
    max: 20,
    tooMany: ecsSpec("NumberExceed.Tags"),
  },
  TagFilter: {
    type: "list",
    member: {
      type: "struct",
      members: {
        TagKey: { type: "string" },
        TagValues: {
          type: "list",
          member: { type: "string" },
          max: 5,
          tooMany: ecsSpec("NumberExceed.TagValues"),
        },
      },
    },
    max: 5,
    tooMany: ecsSpec("InvalidTagFilter.Malformed"),
  },
  NextToken: { type: "string", maxLength: 2048 },
  ...OWNER_PARAMS,
} as const satisfies ParamTable;

type Request = ParamsOf<typeof params>;

/**
 * ListTagResources (seed 001): the tags of `ResourceId.N`, or of the resources that carry every
 * `Tag.N` (a key alone: any value), or that pass every `TagFilter.N` pattern (AND across filters, OR
 * across one filter's values), or of a resource group (`Tag.1.Key=acs:rm:rgId`). One row per
 * (resource, tag), resources in registration order, tags by key. Alibaba runs the patterns as a
 * preview with a lag and a 5,000-resource cap; here they are immediate, uncapped, and driven by the
 * key and value indexes.
 */
export async function handler(ctx: EcsContext, req: Request) {
  refuseOwnerParams(req);
  const region = requireRegion(req.RegionId as string);
  const resourceType = req.ResourceType as string;
  if (!ecsResourceType(resourceType, false)) throw ecsError("InvalidResourceType.NotFound");
  const ids = [...new Set(req.ResourceId ?? [])];
  const tags = req.Tag ?? [];
  const filters = req.TagFilter ?? [];
  if (tags.length > 0 && filters.length > 0) throw ecsError("InvalidTags.MalFormed");
  if (ids.length === 0 && tags.length === 0 && filters.length === 0)
    throw ecsError("BothEmpty.TagsAndResources");

  const { exact, group } = tagQuery(ctx, tags);
  const patterns = filters.map((f, i) => patternOf(f, i + 1));
  const query = JSON.stringify({ resourceType, ids, exact, group, patterns });
  const rowQuery: TagRowQuery = {
    region,
    service: "ecs",
    resourceType,
    exact,
    patterns,
    group,
    pageRows: PAGE_ROWS,
    badToken: () => ecsError("Invalid.NextToken"),
  };
  const page = await tagRowPage(ctx, rowQuery, { ids, query, token: req.NextToken });
  return {
    ...(page.nextToken !== undefined ? { NextToken: page.nextToken } : {}),
    TagResources: { TagResource: page.rows },
  };
}

/** `Tag.N` as exact filters, or the resource-group query it may stand for. */
function tagQuery(ctx: EcsContext, entries: NonNullable<Request["Tag"]>) {
  const exact: TagFilterSpec[] = [];
  let group: string | undefined;
  entries.forEach((t, i) => {
    const n = i + 1;
    if (t.Key === undefined) throw ecsError("InvalidParameter.TagValue", { n });
    const keyLength = codePoints(t.Key);
    if (keyLength < 1 || keyLength > 128) throw ecsError("InvalidTagKey.Malformed", { n });
    if (t.Value !== undefined && codePoints(t.Value) > 128)
      throw ecsError("InvalidTagValue.Malformed", { n });
    if (t.Key === RESOURCE_GROUP_KEY) {
      if (t.Value === undefined || t.Value === "") throw ecsError("InvalidTag.Mismatch", { n });
      group = t.Value;
    } else {
      exact.push({ key: t.Key, values: t.Value === undefined ? [] : [t.Value] });
    }
  });
  requireDistinctKeys(entries.map((t) => t.Key as string));
  if (group !== undefined) {
    if (entries.length > 1) throw ecsError("InvalidTag.NotSupported");
    const account = ctx.deps.config.accounts.find((a) => a.id === ctx.accountId);
    if (account?.defaultResourceGroupId === group) throw ecsError("InvalidDefaultResourceGroup.NotSupported");
  }
  return { exact, group };
}

/**
 * One `TagFilter.N`: its key as a pattern; values only with an exact key, matched by the first
 * value's pattern kind ("for the same TagKey, you can use only one search pattern … the system uses
 * only the first"): values written in another kind are left out.
 */
function patternOf(f: NonNullable<Request["TagFilter"]>[number], n: number): PatternFilter {
  const malformed = (why: string) =>
    ecsError("InvalidTagFilter.Malformed", { detail: `(TagFilter.${n}: ${why})` });
  if (f.TagKey === undefined) throw malformed("TagKey is required");
  const keyLength = codePoints(f.TagKey);
  if (keyLength < 1 || keyLength > 128) throw malformed("TagKey must be 1 to 128 characters");
  const key = parsePattern(f.TagKey);
  const raw = f.TagValues ?? [];
  for (const v of raw) {
    const length = codePoints(v);
    if (length < 1 || length > 128) throw malformed("each of TagValues must be 1 to 128 characters");
  }
  if (raw.length > 0 && key.kind !== "exact")
    throw malformed("to match tag values, TagKey must be an exact key, without *");
  const values = raw.map(parsePattern);
  const kind = values[0]?.kind;
  return { key, values: dedupe(values.filter((v) => v.kind === kind)) };
}

function dedupe(values: TextMatch[]): TextMatch[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const id = `${v.kind}:${v.text}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
