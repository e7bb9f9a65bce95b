import { AWS_TAG_RULES, reservedPrefixOf } from "../../domain/tags.ts";
import type { Infer, StructureShape } from "../../validation.ts";
import { collectFailures, parseArns, resolveTargets, type TaggingContext } from "./common.ts";
import { invalidParameter } from "./errors.ts";
import { ARN_LIST_20, TAG_KEY } from "./shapes.ts";

export const input = {
  type: "structure",
  members: {
    ResourceARNList: ARN_LIST_20,
    TagKeys: { type: "list", member: TAG_KEY, min: 1, max: 50, required: true },
  },
} as const satisfies StructureShape;

export async function handler(ctx: TaggingContext, req: Infer<typeof input>) {
  const keys = req.TagKeys ?? [];
  for (const key of keys) {
    const reserved = reservedPrefixOf(key, AWS_TAG_RULES);
    if (reserved)
      throw invalidParameter(`Tag keys starting with '${reserved}' are reserved for AWS use: ${key}`);
  }
  const arns = parseArns(ctx, req.ResourceARNList ?? []);
  const { records, failures } = await resolveTargets(ctx, arns);
  const results = await ctx.deps.store.applyTagChanges(
    ctx.accountId,
    records.map((resource) => ({ resource, register: false, set: [], remove: keys })),
  );
  // "The operation succeeds even if you attempt to remove tags from a resource that were already
  // removed": in open mode a resource tagd has never seen has no tags to remove, so that is success.
  return { FailedResourcesMap: collectFailures(results, records, failures, ctx.deps.inventory === "open") };
}
