import type { ParamsOf, ParamTable } from "../../protocols/aliyun-params.ts";
import { invalidParameter } from "../../protocols/aliyun-rpc.ts";
import { codePoints } from "../../validation.ts";
import { type TagRowQuery, tagRowPage } from "../aliyun-common.ts";
import {
  type AliKmsContext,
  REGION_ID,
  RESOURCE_IDS,
  RESOURCE_TYPE,
  requireDistinctKeys,
  requireRegion,
  resolveTargets,
  SERVICE,
  TAGS,
} from "./common.ts";

/** "By default, 200 rows are returned" (seed 002); a resource's rows are never split across pages. */
export const PAGE_ROWS = 200;

/** Reads only: runs while the request's nonce is recorded. */
export const readOnly = true;

export const params = {
  RegionId: REGION_ID,
  ResourceType: RESOURCE_TYPE,
  ResourceId: RESOURCE_IDS,
  Tag: TAGS,
  NextToken: { type: "string", maxLength: 2048 },
} as const satisfies ParamTable;

type Request = ParamsOf<typeof params>;

/**
 * ListTagResources (seed 002): one row per (resource, tag) of the keys or secrets named by
 * `ResourceId.N`, or of those carrying every `Tag.N` (a key alone: any value), or of every tagged
 * resource of the type when neither is given; both lists also as JSON arrays. Resources in
 * registration order, tags by key, 200 rows a page, `NextToken` signed and bound to the account,
 * region and query.
 */
export async function handler(ctx: AliKmsContext, req: Request) {
  const region = requireRegion(req.RegionId as string);
  const resourceType = req.ResourceType as string;
  const ids = [...new Set(req.ResourceId ?? [])];
  // Named resources must exist as a write would need them (their form; in strict mode, registered).
  const resolved = await resolveTargets(ctx, region, resourceType, ids);
  const exact = (req.Tag ?? []).map((t, i) => {
    if (t.Key === undefined)
      throw invalidParameter(`Tag.${i + 1}.Key`, "a tag needs its key to be searched for");
    const keyLength = codePoints(t.Key);
    if (keyLength < 1 || keyLength > 128)
      throw invalidParameter(`Tag.${i + 1}.Key`, "it must be 1 to 128 characters long");
    if (t.Value !== undefined && codePoints(t.Value) > 128)
      throw invalidParameter(`Tag.${i + 1}.Value`, "it must be at most 128 characters long");
    return { key: t.Key, values: t.Value === undefined ? [] : [t.Value] };
  });
  requireDistinctKeys(exact.map((f) => f.key));

  const query = JSON.stringify({ product: "kms", resourceType, ids, exact });
  const rowQuery: TagRowQuery = {
    region,
    service: SERVICE,
    resourceType,
    exact,
    patterns: [],
    group: undefined,
    pageRows: PAGE_ROWS,
    badToken: () => invalidParameter("NextToken", "it is not a token this query issued"),
  };
  const page = await tagRowPage(ctx, rowQuery, { ids, resolved, query, token: req.NextToken });
  // "If NextToken is empty ("NextToken": ""), no next page exists."
  return { NextToken: page.nextToken ?? "", TagResources: { TagResource: page.rows } };
}
