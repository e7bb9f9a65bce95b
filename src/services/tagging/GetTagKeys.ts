import type { Infer, StructureShape } from "../../validation.ts";
import { openToken, pageToken, stringPage, type TaggingContext } from "./common.ts";
import { PAGINATION_TOKEN } from "./shapes.ts";

/** Keys per page; the seed names no page size for GetTagKeys, so tagd picks one and documents it. */
export const TAG_KEYS_PAGE_SIZE = 500;

export const input = {
  type: "structure",
  members: { PaginationToken: PAGINATION_TOKEN },
} as const satisfies StructureShape;

export async function handler(ctx: TaggingContext, req: Infer<typeof input>) {
  const query = "GetTagKeys";
  const page = await ctx.deps.store.listTagKeys({
    accountId: ctx.accountId,
    region: ctx.region,
    limit: TAG_KEYS_PAGE_SIZE,
    cursor: openToken(ctx, req.PaginationToken, query),
  });
  return stringPage(pageToken(ctx, page.cursor, query), "TagKeys", page.items);
}
