import type { Infer, StructureShape } from "../../validation.ts";
import { openToken, pageToken, stringPage, type TaggingContext } from "./common.ts";
import { PAGINATION_TOKEN, TAG_KEY } from "./shapes.ts";

/** Values per page; the seed names no page size for GetTagValues, so tagd picks one and documents it. */
export const TAG_VALUES_PAGE_SIZE = 500;

export const input = {
  type: "structure",
  members: {
    Key: { ...TAG_KEY, required: true },
    PaginationToken: PAGINATION_TOKEN,
  },
} as const satisfies StructureShape;

export async function handler(ctx: TaggingContext, req: Infer<typeof input>) {
  const key = req.Key as string;
  const query = `GetTagValues\n${key}`;
  const page = await ctx.deps.store.listTagValues({
    accountId: ctx.accountId,
    region: ctx.region,
    key,
    limit: TAG_VALUES_PAGE_SIZE,
    cursor: openToken(ctx, req.PaginationToken, query),
  });
  return stringPage(pageToken(ctx, page.cursor, query), "TagValues", page.items);
}
